import Foundation

/// This validator's own clients: whose request waits under which key, and the
/// answers held back until the block that settles them is durable. A client
/// is answered once: SUCCESS when its transaction is in a durable block,
/// FAILURE for a duplicate txid, a failed write, or a shutdown.
final class ClientRequests {
    struct Waiting {
        let client: PeerID
        let txid: String
        /// `PBFTClock.monotonicNanos()` when it came: the commit latency's start.
        let receivedAt: UInt64
        /// The request's payload (the client's transaction bytes): SUCCESS only for these.
        var payload = Data()
    }

    struct Answer {
        let client: PeerID
        let txid: String
        let duplicate: Bool
        /// Another transaction was ordered under this client's request key (a forgery that
        /// got past the checks): its own was not, so it is answered FAILURE.
        var displaced = false
    }

    private var waiting: [RequestKey: Waiting] = [:]
    /// Requests stamped anew: old key -> the key their client now waits on. Should the
    /// old one still be ordered (it was in a batch somewhere when it was overtaken
    /// here), its client is answered SUCCESS then, not FAILURE for the duplicate later.
    private var restamped: [RequestKey: RequestKey] = [:]
    /// One entry per block appended, in append order, until its outcome is known.
    private var held: [[Answer]] = []
    private var heldHead = 0

    var count: Int { waiting.count }

    func wait(_ key: RequestKey, _ request: Waiting) { waiting[key] = request }

    /// This validator's clients' transactions received and not answered yet.
    var waitingCount: Int { waiting.count }

    func isWaiting(on key: RequestKey) -> Bool { waiting[key] != nil }

    /// The client waiting on `key`, no longer waiting (it is answered by the caller).
    func stopWaiting(on key: RequestKey) -> Waiting? { waiting.removeValue(forKey: key) }

    /// The client waiting on `old` now waits on `new`; nil if none waited.
    func restamp(from old: RequestKey, to new: RequestKey) -> Waiting? {
        guard let request = waiting.removeValue(forKey: old) else { return nil }
        waiting[new] = request
        restamped[old] = new
        if restamped.count > 4096 { restamped = restamped.filter { waiting[$0.value] != nil } }
        return request
    }

    /// The answers a block assembled here from `batch` settles: its transactions by request
    /// key (following re-stamps), each only if it is the client's own transaction (its txid
    /// and payload), and the duplicates it skipped. `settled` sees each SUCCESS.
    func answers(for block: AssembledBlock, batch: Pbft_request_batch, settled: (Waiting) -> Void) -> [Answer] {
        var answers: [Answer] = []
        var payloads: [RequestKey: Data] = [:]
        if !waiting.isEmpty {
            for request in batch.batch {
                let key = RequestKey(request)
                if waiting[key] != nil || restamped[key] != nil { payloads[key] = request.payload }
            }
        }
        for (txid, ordered) in block.included {
            let key = keyWaitedOn(ordered)
            guard let request = waiting.removeValue(forKey: key) else { continue }
            let own = request.txid == txid && payloads[ordered] == request.payload
            if own { settled(request) }
            answers.append(Answer(client: request.client, txid: request.txid, duplicate: false, displaced: !own))
        }
        for (txid, key) in block.duplicates {
            guard let request = waiting.removeValue(forKey: key) else { continue }
            answers.append(Answer(client: request.client, txid: txid, duplicate: true))
        }
        return answers
    }

    /// The key a client now waits on for a request ordered under `ordered`: the re-stamps
    /// followed to the last (a request can be stamped anew more than once: overtaken, then
    /// dropped by a state transfer), or `ordered` itself. The followed links are used up.
    private func keyWaitedOn(_ ordered: RequestKey) -> RequestKey {
        var key = ordered
        while let next = restamped.removeValue(forKey: key) { key = next }
        return waiting[key] != nil ? key : ordered
    }

    /// The answers blocks fetched by state transfer settle, one list per block:
    /// by txid, since the keys the requests were ordered under are not in a block.
    func answers(forFetched blocks: [Protos_Block]) -> [[Answer]] {
        var byTxid: [String: [RequestKey]] = [:]
        for (key, request) in waiting { byTxid[request.txid, default: []].append(key) }
        return blocks.map { block in
            block.transactions.flatMap { tx in
                (byTxid.removeValue(forKey: tx.txid) ?? []).compactMap { key in
                    waiting.removeValue(forKey: key).map { Answer(client: $0.client, txid: tx.txid, duplicate: false) }
                }
            }
        }
    }

    /// Holds the answers of the block just appended until its outcome.
    func hold(_ answers: [Answer]) { held.append(answers) }

    /// Pairs the ledger's outcomes (in append order) with the answers they release.
    func release(_ outcomes: [Result<Void, Error>]) -> [(answers: [Answer], result: Result<Void, Error>)] {
        var released: [(answers: [Answer], result: Result<Void, Error>)] = []
        for result in outcomes {
            guard heldHead < held.count else { break }
            released.append((held[heldHead], result))
            heldHead += 1
        }
        if heldHead > 1024 && heldHead * 2 > held.count {
            held.removeFirst(heldHead)
            heldHead = 0
        }
        return released
    }

    /// The requests still waiting, as they were sent (oldest key first).
    var waitingRequests: [Pbft_request] {
        waiting.keys.sorted().map { key in
            var request = Pbft_request()
            request.replicaID = key.replica
            request.timestamp.seconds = key.seconds
            request.timestamp.nanos = key.nanos
            request.payload = waiting[key]!.payload
            return request
        }
    }

    /// Every client still waiting (at shutdown); none waits afterwards.
    func takeAllWaiting() -> [Waiting] {
        defer { waiting.removeAll() }
        return Array(waiting.values)
    }
}
