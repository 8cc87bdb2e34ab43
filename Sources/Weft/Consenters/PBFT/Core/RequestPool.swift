import Foundation

/// Outstanding requests in arrival order, and which of them are already in a
/// pending (pre-prepared, not yet executed) batch. Iteration is over the
/// arrival-order array only; dictionaries are used for lookups, never iterated.
struct RequestPool {
    struct Entry {
        let request: Pbft_request
        let key: RequestKey
        let arrivedTick: UInt64
    }

    /// Arrival order; removed entries are nil until the next compaction.
    private var order: [Entry?] = []
    private var index: [RequestKey: Int] = [:]
    private var head = 0
    /// Every entry before this index is removed or in a pending batch, so a
    /// search for unassigned requests starts here (the primary would otherwise
    /// walk every pending request for every batch it cuts).
    private var scanFrom = 0
    /// Keys in a pending batch (whether or not the request itself arrived here).
    private(set) var pending: Set<RequestKey> = []
    /// Per origin replica: the latest request timestamp executed.
    private(set) var stamps: RequestStamps
    /// Other payloads the origin itself sent under a key held here: a validator whose disk
    /// was wiped re-uses stamps its earlier life gave (`PBFTReusedRequestKeyTests`). A batch
    /// with any of them is authentic. At most `maxPayloadsPerKey` - 1 per key; gone with the key.
    private var reusedKeys: [RequestKey: [Pbft_request]] = [:]
    static let maxPayloadsPerKey = 4

    /// An empty pool; `stamps`: which requests already executed (stale ones are refused).
    init(stamps: RequestStamps = RequestStamps()) { self.stamps = stamps }

    var count: Int { index.count }
    /// Outstanding and not in a pending batch.
    private(set) var unassignedCount = 0

    /// `anotherPayload`: the key was held with another payload, now both are.
    enum AddResult { case added, duplicate, alreadyExecuted, anotherPayload }

    mutating func add(_ request: Pbft_request, tick: UInt64) -> AddResult {
        let key = RequestKey(request)
        if stamps.isStale(key) { return .alreadyExecuted }
        if let i = index[key] {
            let others = reusedKeys[key] ?? []
            guard order[i]?.request.payload != request.payload, !sentAlso(key, payload: request.payload),
                  others.count + 1 < Self.maxPayloadsPerKey else { return .duplicate }
            reusedKeys[key] = others + [request]
            return .anotherPayload
        }
        index[key] = order.count
        order.append(Entry(request: request, key: key, arrivedTick: tick))
        if !pending.contains(key) { unassignedCount += 1 }
        return .added
    }

    func contains(_ key: RequestKey) -> Bool { index[key] != nil }

    /// The outstanding request under `key`, as its origin sent it.
    func request(_ key: RequestKey) -> Pbft_request? { index[key].flatMap { order[$0]?.request } }

    /// The origin also sent `payload` under `key`, after another one (`request(key)`).
    func sentAlso(_ key: RequestKey, payload: Data) -> Bool {
        guard !reusedKeys.isEmpty, let others = reusedKeys[key] else { return false }
        return others.contains { $0.payload == payload }
    }

    /// Its origin already had this timestamp, or a later one, executed: `add` refuses it.
    func isExecutedOrOlder(_ key: RequestKey) -> Bool { stamps.isStale(key) }

    /// Outstanding requests not in a pending batch, oldest first, at most
    /// `limit` of them and (past the first) at most `maxBytes` of payload, so a
    /// batch always fits in one frame.
    func unassigned(limit: Int, maxBytes: Int = .max) -> [Entry] {
        var out: [Entry] = []
        var bytes = 0
        var i = max(head, scanFrom)
        while i < order.count && out.count < limit {
            if let e = order[i], !pending.contains(e.key) {
                let size = e.request.payload.count + RequestPool.requestOverhead
                if !out.isEmpty && bytes + size > maxBytes { break }
                out.append(e)
                bytes += size
            }
            i += 1
        }
        return out
    }

    /// What a request adds to an encoded batch beyond its payload (timestamp, ids, tags), at most.
    static let requestOverhead = 48

    /// The oldest outstanding request (for the request timer).
    var oldest: Entry? {
        var i = head
        while i < order.count { if let e = order[i] { return e }; i += 1 }
        return nil
    }

    /// All outstanding entries, arrival order.
    var all: [Entry] { order[head...].compactMap { $0 } }

    mutating func markPending(_ keys: [RequestKey]) {
        for k in keys where pending.insert(k).inserted && index[k] != nil { unassignedCount -= 1 }
        if scanFrom < head { scanFrom = head }
        while scanFrom < order.count, order[scanFrom].map({ pending.contains($0.key) }) ?? true { scanFrom += 1 }
    }

    mutating func clearPending() {
        pending.removeAll()
        scanFrom = head
        unassignedCount = index.count
    }

    /// A batch holding these requests executed: forget them, remember the timestamps.
    /// `completed`: the keys that were outstanding here, in batch order.
    /// `overtaken`: outstanding requests, in no pending batch, whose origin
    /// replica has now executed a later timestamp: `add` refuses them from now
    /// on everywhere, so they could never be ordered; they leave the pool too.
    mutating func executed(_ batch: Pbft_request_batch) -> (completed: [RequestKey], overtaken: [Pbft_request]) {
        var removed: [RequestKey] = []
        var advanced: [UInt64] = []
        for r in batch.batch {
            let key = RequestKey(r)
            let wasPending = pending.remove(key) != nil
            // A stale request (not later than what executed before) is skipped, and tells nothing new.
            if stamps.advance(key), !advanced.contains(key.replica) { advanced.append(key.replica) }
            if let i = index.removeValue(forKey: key) {
                order[i] = nil
                reusedKeys[key] = nil
                if !wasPending { unassignedCount -= 1 }
                removed.append(key)
            }
        }
        // Only an unassigned request can be overtaken: with none, nothing to scan.
        let overtaken = advanced.isEmpty || unassignedCount == 0 ? [] : removeOvertaken(of: advanced)
        compact()
        return (removed, overtaken)
    }

    /// Takes out the outstanding requests of `replicas` that are not in a pending
    /// batch and not later than their replica's last executed timestamp.
    private mutating func removeOvertaken(of replicas: [UInt64]) -> [Pbft_request] {
        var out: [Pbft_request] = []
        for i in head..<order.count {
            guard let e = order[i], replicas.contains(e.key.replica), !pending.contains(e.key),
                  stamps.isStale(e.key) else { continue }
            order[i] = nil
            index[e.key] = nil
            reusedKeys[e.key] = nil
            unassignedCount -= 1
            out.append(e.request)
        }
        return out
    }

    private mutating func compact() {
        while head < order.count && order[head] == nil { head += 1 }
        if head > 64 && head * 2 > order.count {
            order.removeFirst(head)
            scanFrom = max(0, scanFrom - head)
            head = 0
            for (i, e) in order.enumerated() { if let e { index[e.key] = i } }
        }
    }
}
