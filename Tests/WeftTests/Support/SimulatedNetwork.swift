import Foundation
import SwiftProtobuf
@testable import Weft

/// N PBFT replicas over a seeded, adversarial in-memory network: the next
/// delivery is picked at random from everything in flight (reordering), with
/// optional duplication, drops and partitions. Each replica executes into a
/// real BlockAssembler and feeds `executed(seq, checkpointID)` back. Requests
/// spread between replicas travel FIFO per link, as over a TCP connection.
/// Same seed, same calls => same trace.
final class SimulatedNetwork {
    enum Payload {
        case pbft(Pbft_message)
        /// The head of the (from, to) request queue.
        case requestToken
        /// Replica `to` finishes its oldest queued execution.
        case executeToken
    }

    struct Envelope {
        let from: UInt64
        let to: UInt64
        let payload: Payload
    }

    struct Execution {
        let sequence: UInt64
        let batch: Pbft_request_batch?
        let digest: String
    }

    let options: PBFTOptions
    let n: Int
    private(set) var replicas: [PBFTReplica]
    private(set) var assemblers: [BlockAssembler]
    /// Per replica: block bytes appended, in order.
    private(set) var blocks: [[[UInt8]]]
    /// Per replica: (sequence, digest) executed, in order.
    private(set) var executions: [[(sequence: UInt64, digest: String)]]
    /// Per replica: one line per action, for trace comparison.
    private(set) var actionLog: [[String]]
    /// Per replica: txids the assembler skipped as duplicates.
    private(set) var duplicateTxids: [[String]]
    /// Per replica: its persisted records.
    private(set) var stores: [[String: [UInt8]]]
    /// Per replica: every NEW-VIEW it sent (broadcast or to one replica), in order.
    private(set) var newViewsSent: [[Pbft_new_view]]
    /// Per replica: request keys reported completed.
    private(set) var completed: [[RequestKey]]
    private var pool: [Envelope] = []
    private var requestLinks: [[[Pbft_request]]]  // [from][to] FIFO
    private var executeQueues: [[Execution]]
    private var rng: SplitMix64
    private var clientClock: [Int64]

    var duplicateProbability = 0.0
    var dropProbability = 0.0
    /// Executions complete at random later steps instead of at once.
    var asyncExecution = false
    /// Replica -> group; messages between groups are dropped. nil = connected.
    var partition: [Int]? {
        didSet {
            for a in 0..<n { for b in 0..<n where a != b && cut(oldValue, a, b) && !cut(partition, a, b) { reconnect(UInt64(a), UInt64(b)) } }
        }
    }
    /// Sees every message a replica sends and returns what actually leaves (faulty replicas).
    var outboundHook: ((Envelope) -> [Envelope])?
    /// Crash at a send: given a replica and a message it broadcasts, the replicas that
    /// still get it before the process dies (nil: no crash). The actions after it are
    /// lost, and the replica restarts from the records stored before it.
    var crashAtBroadcast: ((Int, Pbft_message) -> Set<UInt64>?)?
    /// Replicas whose state machines receive nothing (crashed or silenced).
    var isolated: Set<UInt64> = [] {
        didSet {
            for back in oldValue.subtracting(isolated) { for other in 0..<UInt64(n) where other != back { reconnect(other, back) } }
        }
    }
    /// (from, to) -> the spread requests on that link are lost (a primary that censors `from`).
    var requestsLost: ((UInt64, UInt64) -> Bool)?
    var deliveriesPerTick = 20
    /// Replicas whose next state transfer the host refuses (as a checkpoint id that does not decode).
    var refuseNextTransfer: Set<Int> = []
    private(set) var steps = 0
    private(set) var ticks = 0
    private(set) var delivered = 0
    private(set) var dropped = 0

    /// Every request in the simulation is spread from its origin (FIFO per link, as over
    /// TCP), so the replicas check batches against the requests they hold (`authenticatedRequests`).
    init(options: PBFTOptions, seed: UInt64) {
        var options = options
        options.authenticatedRequests = true
        self.options = options
        n = options.n
        replicas = (0..<options.n).map { PBFTReplica(id: UInt64($0), options: options) }
        assemblers = Array(repeating: BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 1_000_000)), count: options.n)
        blocks = Array(repeating: [], count: options.n)
        executions = Array(repeating: [], count: options.n)
        actionLog = Array(repeating: [], count: options.n)
        duplicateTxids = Array(repeating: [], count: options.n)
        completed = Array(repeating: [], count: options.n)
        newViewsSent = Array(repeating: [], count: options.n)
        stores = Array(repeating: [:], count: options.n)
        requestLinks = Array(repeating: Array(repeating: [], count: options.n), count: options.n)
        executeQueues = Array(repeating: [], count: options.n)
        rng = SplitMix64(seed: seed)
        clientClock = Array(repeating: 0, count: options.n)
    }

    // MARK: requests

    static func transaction(_ txid: String) -> Data {
        var tx = Protos_Transaction()
        tx.type = .chaincodeInvoke
        tx.txid = txid
        tx.payload = Data(txid.utf8)
        return try! tx.serializedBytes()
    }

    /// A client sends `txid` to replica `at`: it wraps it in a request (its id, the next timestamp) and spreads it.
    @discardableResult
    func submit(_ txid: String, at replica: Int) -> Pbft_request {
        let r = stamped(Self.transaction(txid), at: replica)
        submit(request: r, at: replica)
        return r
    }

    /// As `submit`, but the spread to the other replicas is lost: only `at` holds the request.
    @discardableResult
    func submitUnspread(_ txid: String, at replica: Int) -> Pbft_request {
        let r = stamped(Self.transaction(txid), at: replica)
        replicas[replica].receiveRequest(r)
        drain(replica)
        return r
    }

    /// A request of replica `replica` with its next timestamp.
    private func stamped(_ payload: Data, at replica: Int) -> Pbft_request {
        clientClock[replica] += 1
        var r = Pbft_request()
        r.replicaID = UInt64(replica)
        r.timestamp = Google_Protobuf_Timestamp(seconds: clientClock[replica], nanos: 0)
        r.payload = payload
        return r
    }

    /// Hands an existing request to replica `at` and spreads it from there.
    func submit(request r: Pbft_request, at replica: Int) {
        if !isolated.contains(UInt64(replica)) {
            replicas[replica].receiveRequest(r)
            drain(replica)
        }
        spread(r, from: replica)
    }

    private func spread(_ r: Pbft_request, from replica: Int) {
        for to in 0..<n where to != replica {
            requestLinks[replica][to].append(r)
            pool.append(Envelope(from: UInt64(replica), to: UInt64(to), payload: .requestToken))
        }
    }

    /// Puts a message in flight as if `from` had sent it.
    func inject(_ message: Pbft_message, from: UInt64, to: UInt64) {
        pool.append(Envelope(from: from, to: to, payload: .pbft(message)))
    }

    // MARK: running

    var inFlight: Int { pool.count }

    /// One delivery, or one tick of every replica (every `deliveriesPerTick` steps, or when nothing is in flight).
    func step() {
        steps += 1
        if pool.isEmpty || steps % deliveriesPerTick == 0 {
            tick()
            if pool.isEmpty { return }
        }
        let i = rng.below(pool.count)
        let e = pool[i]
        pool[i] = pool[pool.count - 1]
        pool.removeLast()
        deliver(e)
    }

    func tick() {
        ticks += 1
        for r in 0..<n where !isolated.contains(UInt64(r)) {
            replicas[r].tick()
            drain(r)
        }
    }

    func run(steps count: Int) { for _ in 0..<count { step() } }

    /// Runs until `done()` or `maxSteps`; returns whether `done()` held.
    @discardableResult
    func run(maxSteps: Int, until done: () -> Bool) -> Bool {
        for _ in 0..<maxSteps {
            if done() { return true }
            step()
        }
        return done()
    }

    /// Delivers everything in flight (ticking as usual) until nothing is left and
    /// no replica in `group` (default: all not isolated) holds an outstanding request.
    @discardableResult
    func runUntilQuiet(maxSteps: Int = 200_000, among group: [Int]? = nil) -> Bool {
        let ids = group ?? (0..<n).filter { !isolated.contains(UInt64($0)) }
        return run(maxSteps: maxSteps) { pool.isEmpty && ids.allSatisfy { replicas[$0].outstandingCount == 0 } }
    }

    private func cut(_ groups: [Int]?, _ a: Int, _ b: Int) -> Bool { groups.map { $0[a] != $0[b] } ?? false }

    /// `from` sees `to` connect again: as PBFTHost does for a newcomer, it spreads its own
    /// outstanding requests to it again (they may have been lost while the link was down).
    private func reconnect(_ from: UInt64, _ to: UInt64) {
        guard !isolated.contains(from) else { return }
        for entry in replicas[Int(from)].pool.all where entry.key.replica == from {
            requestLinks[Int(from)][Int(to)].append(entry.request)
            pool.append(Envelope(from: from, to: to, payload: .requestToken))
        }
    }

    private func cut(_ a: UInt64, _ b: UInt64) -> Bool {
        guard let partition else { return false }
        return partition[Int(a)] != partition[Int(b)]
    }

    private func deliver(_ e: Envelope) {
        let to = Int(e.to)
        if case .executeToken = e.payload {
            completeExecution(to)
            return
        }
        var request: Pbft_request?
        if case .requestToken = e.payload { request = requestLinks[Int(e.from)][to].removeFirst() }
        if cut(e.from, e.to) || isolated.contains(e.to) || rng.chance(dropProbability)
            || (request != nil && requestsLost?(e.from, e.to) == true) {
            dropped += 1
            return
        }
        if rng.chance(duplicateProbability) {
            if let request { requestLinks[Int(e.from)][to].append(request) }
            pool.append(e)
        }
        delivered += 1
        switch e.payload {
        case .pbft(let m): replicas[to].receive(m, from: e.from)
        case .requestToken: replicas[to].receiveRequest(request!)
        case .executeToken: break
        }
        drain(to)
    }

    /// Carries out a replica's actions until it has none.
    func drain(_ r: Int) {
        while true {
            let actions = replicas[r].takeActions()
            if actions.isEmpty {
                if !asyncExecution && !executeQueues[r].isEmpty {
                    completeExecution(r)
                    continue
                }
                return
            }
            for a in actions {
                actionLog[r].append(Self.summary(a))
                if case .broadcast(let m) = a, case .newView(let nv) = m.payload { newViewsSent[r].append(nv) }
                if case .send(let m, _) = a, case .newView(let nv) = m.payload { newViewsSent[r].append(nv) }
                switch a {
                case .broadcast(let m):
                    if let reached = crashAtBroadcast?(r, m) {
                        for to in reached.sorted() { send(Envelope(from: UInt64(r), to: to, payload: .pbft(m))) }
                        actionLog[r].append("crashed")
                        restart(r)
                        return
                    }
                    for to in 0..<n where to != r { send(Envelope(from: UInt64(r), to: UInt64(to), payload: .pbft(m))) }
                case .send(let m, let to):
                    send(Envelope(from: UInt64(r), to: to, payload: .pbft(m)))
                case .execute(let sequence, let batch, let digest):
                    executeQueues[r].append(Execution(sequence: sequence, batch: batch, digest: digest))
                    if asyncExecution { pool.append(Envelope(from: UInt64(r), to: UInt64(r), payload: .executeToken)) }
                case .requestsCompleted(let keys):
                    completed[r].append(contentsOf: keys)
                case .stateTransfer(let sequence, let id, let from):
                    stateTransfer(r, sequence: sequence, id: id, from: from)
                case .resendRequests(let requests):
                    for request in requests { spread(request, from: r) }
                case .requestsOvertaken(let requests):
                    // As the adapter does: its own ones go out again under a new timestamp.
                    for request in requests where request.replicaID == UInt64(r) {
                        let again = stamped(request.payload, at: r)
                        replicas[r].receiveRequest(again)
                        spread(again, from: r)
                    }
                case .persist(let key, let value):
                    stores[r][key] = value
                case .viewChangeStarted, .newViewInstalled:
                    break
                }
            }
        }
    }

    private func send(_ e: Envelope) {
        if let outboundHook {
            pool.append(contentsOf: outboundHook(e))
        } else {
            pool.append(e)
        }
    }

    private func completeExecution(_ r: Int) {
        guard !executeQueues[r].isEmpty else { return }
        let x = executeQueues[r].removeFirst()
        executions[r].append((x.sequence, x.digest))
        if let batch = x.batch {
            let block = assemblers[r].assemble(sequence: x.sequence, batch: batch)
            blocks[r].append(block.bytes)
            duplicateTxids[r].append(contentsOf: block.duplicates.map(\.txid))
            // As the adapter does: its own stale requests not yet in the chain go out again
            // under a new timestamp (their clients still wait).
            for request in block.stale where request.replicaID == UInt64(r) {
                guard let tx = try? Protos_Transaction(serializedBytes: request.payload),
                      !assemblers[r].recentTxids.contains(TxidDigest(tx.txid)) else { continue }
                let again = stamped(request.payload, at: r)
                replicas[r].receiveRequest(again)
                spread(again, from: r)
            }
        }
        replicas[r].executed(sequence: x.sequence, checkpointID: assemblers[r].checkpointID)
        drain(r)
    }

    /// As the host does, through `SimulatedStateTransfer` (the real `StateTransfer`);
    /// the executions (for the agreement check) are the source's up to `sequence`.
    private func stateTransfer(_ r: Int, sequence: UInt64, id: String, from: [UInt64]) {
        if refuseNextTransfer.remove(r) != nil {
            actionLog[r].append("transfer \(sequence) refused")
            replicas[r].stateTransferFailed(sequence: sequence)
            return
        }
        let outcome = SimulatedStateTransfer.run(sequence: sequence, id: id, sources: from, chains: blocks,
                                                 height: assemblers[r].height, lastHash: assemblers[r].lastHash)
        guard case .done(let fetched, let servedBy) = outcome else {
            if case .refused(let why) = outcome {
                actionLog[r].append("transfer \(sequence) refused: \(why)")
                replicas[r].stateTransferFailed(sequence: sequence)
            } else {
                actionLog[r].append("transfer \(sequence) unavailable")
            }
            return
        }
        for (block, bytes) in fetched {
            assemblers[r].adopt(block, bytes: bytes)
            blocks[r].append(bytes)
        }
        let source = servedBy ?? from.map(Int.init).first { executions[$0].last.map { $0.sequence >= sequence } ?? false }
        if let source {
            let theirs = executions[source].prefix { $0.sequence <= sequence }
            if theirs.count > executions[r].count { executions[r] = Array(theirs) }
        }
        executeQueues[r].removeAll()
        actionLog[r].append("transferred \(sequence) from \(source.map(String.init) ?? "own chain")")
        replicas[r].stateTransferCompleted(sequence: sequence, checkpointID: id, requestStamps: assemblers[r].requestStamps)
    }

    /// The host's greeting to a replica that (re)connected: every other replica
    /// tells it where it stands (`PBFTConsenter` does it on each new connection).
    func reconnect(_ r: Int) {
        for other in 0..<n where other != r && !isolated.contains(UInt64(other)) {
            replicas[other].welcome(UInt64(r))
            drain(other)
        }
    }

    /// Replica `r` restarts from an empty disk: no ledger, no records.
    func wipe(_ r: Int) {
        executeQueues[r].removeAll()
        blocks[r] = []
        executions[r] = []
        stores[r] = [:]
        assemblers[r] = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 1_000_000))
        replicas[r] = PBFTReplica(id: UInt64(r), options: options)
        actionLog[r].append("wiped")
        drain(r)
    }

    /// Replica `r` crashes and restarts from its ledger and its persisted records;
    /// executions not yet completed are lost with the process.
    func restart(_ r: Int) {
        executeQueues[r].removeAll()
        replicas[r] = PBFTReplica(id: UInt64(r), options: options, lastExecuted: UInt64(executions[r].last?.sequence ?? 0),
                                  lastCheckpointID: assemblers[r].checkpointID, requestStamps: assemblers[r].requestStamps,
                                  restoring: stores[r])
        actionLog[r].append("restarted")
        drain(r)
        for other in 0..<UInt64(n) where other != UInt64(r) { reconnect(other, UInt64(r)) }
    }

    // MARK: checks

    var heights: [UInt64] { assemblers.map(\.height) }
    var lastHashes: [[UInt8]] { assemblers.map(\.lastHash) }

    /// Every pair of replicas: one's executions (and blocks) are a prefix of the other's.
    func agreementProblem(among group: [Int]? = nil) -> String? {
        let ids = group ?? Array(0..<n)
        for a in ids {
            for b in ids where a < b {
                let m = min(executions[a].count, executions[b].count)
                for i in 0..<m where executions[a][i] != executions[b][i] {
                    return "replicas \(a) and \(b) differ at execution #\(i): \(executions[a][i]) vs \(executions[b][i])"
                }
                let mb = min(blocks[a].count, blocks[b].count)
                for i in 0..<mb where blocks[a][i] != blocks[b][i] {
                    return "replicas \(a) and \(b) differ at block \(i)"
                }
            }
        }
        return nil
    }
}
