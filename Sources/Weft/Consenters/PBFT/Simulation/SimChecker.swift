import Foundation

/// Holds every run to the `SimProperty`s. Safety is checked as it happens:
/// each correct host's chain against the canonical one (the first correct
/// block seen at each height), each answer against the answering host's
/// durable chain, each message a correct replica sends against what it sent
/// before. Liveness and durability are checked at the end (`finish`).
final class SimChecker {
    unowned let world: SimWorld
    private(set) var violations: [SimViolation] = []
    /// Every distinct violation found, those not kept in `violations` included.
    private(set) var found = 0
    private var seen: Set<String> = []
    /// The canonical chain: block bytes, their hashes and sequence numbers, by height.
    private(set) var canonical: [[UInt8]] = []
    private var canonicalHashes: [[UInt8]] = []
    private var canonicalSequences: [UInt64] = []
    /// txid -> height in the canonical chain.
    private var heightOfTxid: [String: Int] = [:]
    /// Per host: heights checked so far, and the disk's loss count then.
    private var checkedHeight: [Int]
    private var checkedLosses: [Int]
    /// (host, kind, view, sequence) -> digest sent; (host, view) -> NEW-VIEW sent; (host, sequence) -> checkpoint id.
    private var digestsSent: [SentKey: String] = [:]
    private var newViewsSent: [SentKey: [UInt8]] = [:]
    private var checkpointsSent: [SentKey: String] = [:]
    private var checkpointOrder: [SentKey] = []

    struct SentKey: Hashable {
        let host: Int
        let kind: SimMessageKind
        let view: UInt64
        let sequence: UInt64
    }

    init(world: SimWorld, hosts: Int) {
        self.world = world
        checkedHeight = Array(repeating: 0, count: hosts)
        checkedLosses = Array(repeating: 0, count: hosts)
    }

    /// Records a violation: at most three per property are kept, the rest only counted.
    func violate(_ property: SimProperty, _ detail: String) {
        guard seen.insert("\(property) \(detail)").inserted else { return }
        found += 1
        world.trace.note("!", "VIOLATION \(property.rawValue): \(detail)")
        guard violations.filter({ $0.property == property }).count < 3 else { return }
        violations.append(SimViolation(property: property, atMillis: world.now, detail: detail))
    }

    /// A wiped replica comes back as a new one: what it sent before is forgotten.
    func forgetMessages(of host: Int) {
        digestsSent = digestsSent.filter { $0.key.host != host }
        newViewsSent = newViewsSent.filter { $0.key.host != host }
        checkpointsSent = checkpointsSent.filter { $0.key.host != host }
    }

    private func correct(_ host: Int) -> Bool { world.byzantine?.id != host }

    // MARK: chains (agreement, validity)

    /// Checks the blocks `host` has on disk beyond those checked before.
    func observeChain(of host: Int) {
        guard correct(host) else { return }
        let disk = world.slots[host].disk
        if disk.losses != checkedLosses[host] { checkedLosses[host] = disk.losses; checkedHeight[host] = 0 }
        checkedHeight[host] = min(checkedHeight[host], disk.blockCount)
        while checkedHeight[host] < disk.blockCount {
            let height = checkedHeight[host]
            let bytes = disk.block(height)
            checkedHeight[host] += 1
            if height < canonical.count {
                if bytes != canonical[height] {
                    violate(.agreement, "vp\(host)'s block \(height) differs from the one correct replicas hold there (\(summary(bytes)) vs \(summary(canonical[height])))")
                }
            } else if height == canonical.count {
                adopt(bytes, at: height, from: host)
            }
        }
    }

    private func adopt(_ bytes: [UInt8], at height: Int, from host: Int) {
        let block = try? Protos_Block(serializedBytes: bytes)
        canonical.append(bytes)
        canonicalHashes.append(SHA256.hash(bytes))
        let sequence = block.flatMap { try? Pbft_metadata(serializedBytes: $0.consensusMetadata) }?.seqNo ?? 0
        canonicalSequences.append(sequence)
        if height > 0, block?.previousBlockHash != Data(canonicalHashes[height - 1]) {
            violate(.agreement, "vp\(host)'s block \(height) does not link to block \(height - 1)")
        }
        for tx in block?.transactions ?? [] {
            if world.clients.payloadByTxid[tx.txid] != tx.payload {
                violate(.validity, "block \(height) (sequence \(sequence), first on vp\(host)) holds \(tx.txid), which no client sent with that payload")
            }
            if let first = heightOfTxid[tx.txid] {   // each transaction is in the chain once
                violate(.validity, "block \(height) (sequence \(sequence), first on vp\(host)) holds \(tx.txid) again, first in block \(first)")
            } else {
                heightOfTxid[tx.txid] = height
            }
        }
    }

    private func summary(_ bytes: [UInt8]) -> String {
        guard let block = try? Protos_Block(serializedBytes: bytes) else { return "undecodable" }
        let sequence = (try? Pbft_metadata(serializedBytes: block.consensusMetadata))?.seqNo ?? 0
        return "sequence \(sequence), \(block.transactions.count) txs"
    }

    // MARK: answers (client integrity)

    func answered(_ index: Int, by host: Int) {
        let request = world.clients.requests[index]
        guard correct(host), let answer = request.answers.last else { return }
        if request.answers.count > 1 { violate(.clientIntegrity, "the client of \(request.txid) was answered twice (\(request.answers.map(\.text)))") }
        guard answer.success else { return }
        guard answer.text == request.txid else {
            return violate(.clientIntegrity, "vp\(host) answered the client of \(request.txid) SUCCESS for \(answer.text)")
        }
        let slot = world.slots[host]
        guard let height = heightOfTxid[request.txid], let ledger = slot.ledger, UInt64(height) < ledger.durableHeight,
              height < slot.disk.blockCount, slot.disk.block(height) == canonical[height] else {
            return violate(.clientIntegrity, "vp\(host) answered SUCCESS for \(request.txid), which is not in its durable chain")
        }
    }

    // MARK: messages (non-equivocation, checkpoints)

    func sent(from host: Int, to: Int, kind: SimMessageKind, inner: Pbft_message?, message: Message) {
        guard correct(host), let inner else { return }
        switch inner.payload {
        case .prePrepare(let m): digest(host, .prePrepare, m.view, m.sequenceNumber, m.batchDigest)
        case .prepare(let m): digest(host, .prepare, m.view, m.sequenceNumber, m.batchDigest)
        case .commit(let m): digest(host, .commit, m.view, m.sequenceNumber, m.batchDigest)
        case .newView(let m):
            let key = SentKey(host: host, kind: .newView, view: m.view, sequence: 0)
            let bytes = PBFTEncoding.bytes(inner)
            if let before = newViewsSent[key], before != bytes {
                violate(.nonEquivocation, "vp\(host) sent two different NEW-VIEWs for view \(m.view)")
            }
            newViewsSent[key] = bytes
            // A NEW-VIEW is its primary's PRE-PREPARE of each sequence number in its xset.
            for n in m.xset.keys.sorted() { digest(host, .prePrepare, m.view, n, m.xset[n]!) }
        case .checkpoint(let c):
            let key = SentKey(host: host, kind: .checkpoint, view: 0, sequence: c.sequenceNumber)
            if let before = checkpointsSent[key] {
                if before != c.id { violate(.nonEquivocation, "vp\(host) announced two checkpoint ids for sequence \(c.sequenceNumber)") }
            } else {
                checkpointsSent[key] = c.id
                checkpointOrder.append(key)
            }
        default:
            break
        }
    }

    private func digest(_ host: Int, _ kind: SimMessageKind, _ view: UInt64, _ sequence: UInt64, _ digest: String) {
        let key = SentKey(host: host, kind: kind, view: view, sequence: sequence)
        if let before = digestsSent[key], before != digest {
            violate(.nonEquivocation, "vp\(host) sent two \(kind.rawValue.uppercased())s for view \(view) sequence \(sequence) with different digests")
        }
        digestsSent[key] = digest
    }

    /// Every checkpoint a correct replica announced names the canonical chain's
    /// state after its sequence; one violation per replica (the first, and how many).
    private func checkCheckpoints() {
        var wrong: [Int: (first: String, count: Int)] = [:]
        for key in checkpointOrder {
            guard let problem = checkpointProblem(key) else { continue }
            wrong[key.host] = (wrong[key.host]?.first ?? problem, (wrong[key.host]?.count ?? 0) + 1)
        }
        for host in wrong.keys.sorted() {
            let (first, count) = wrong[host]!
            violate(.checkpointHonesty, "vp\(host) announced \(count) checkpoint\(count == 1 ? "" : "s") that name a state the chain was not in, first \(first)")
        }
    }

    private func checkpointProblem(_ key: SentKey) -> String? {
        guard let id = checkpointsSent[key] else { return nil }   // forgotten (a wiped replica)
        guard let data = Data(base64Encoded: id), let info = try? Protos_BlockchainInfo(serializedBytes: data) else {
            return "an undecodable id for sequence \(key.sequence)"
        }
        let height = Int(info.height)
        guard height <= canonical.count else { return nil }   // beyond what is known: cannot tell
        let hashMatches = height == 0 ? info.currentBlockHash.isEmpty : Array(info.currentBlockHash) == canonicalHashes[height - 1]
        let lastBelow = height == 0 || canonicalSequences[height - 1] <= key.sequence
        let nextAbove = height == canonical.count || canonicalSequences[height] > key.sequence
        if hashMatches && lastBelow && nextAbove { return nil }
        return "(sequence \(key.sequence), height \(height)\(hashMatches ? "" : ", another hash")) where the chain after sequence \(key.sequence) is at \(stateAfter(key.sequence))"
    }

    private func stateAfter(_ sequence: UInt64) -> String {
        let height = canonicalSequences.firstIndex { $0 > sequence } ?? canonicalSequences.count
        return "height \(height)" + (height == canonical.count ? " or later" : "")
    }

    // MARK: the end (liveness, durability)

    func finish() {
        let correctHosts = (0..<world.slots.count).filter(correct)
        for host in correctHosts { observeChain(of: host) }
        checkCheckpoints()
        // Liveness is judged over the correct replicas that are up: those left down for good (at most
        // f, with the byzantine and wiped ones) are out of it, and their clients lost their connection.
        let upHosts = correctHosts.filter { !world.slots[$0].leftDown }
        let heights = upHosts.map { world.slots[$0].ledger.map { Int($0.durableHeight) } ?? -1 }
        if Set(heights).count > 1 || heights.contains(-1) {
            let down = correctHosts.count == upHosts.count ? "" : " (left down: \(correctHosts.filter { world.slots[$0].leftDown }.map { "vp\($0)" }.joined(separator: " ")))"
            violate(.liveness, "correct replicas did not converge within \(world.options.quietTicks) quiet ticks: durable heights \(zip(upHosts, heights).map { "vp\($0)=\($1)" }.joined(separator: " ")), canonical \(canonical.count)\(down)")
        }
        let longest = heights.max() ?? 0
        var unanswered: [String] = []
        for request in world.clients.requests where correct(request.host) && !world.slots[request.host].leftDown {
            if request.answers.isEmpty {
                if world.slots[request.host].incarnation.number == request.incarnation { unanswered.append(request.txid) }
                continue
            }
            guard request.answers.contains(where: { $0.success && $0.text == request.txid }) else { continue }
            guard let height = heightOfTxid[request.txid], height < longest else {
                violate(.durability, "\(request.txid) was acknowledged but no correct replica's chain holds it now (longest \(longest))")
                continue
            }
        }
        checkAnswerBound()
        if !unanswered.isEmpty {
            violate(.liveness, "\(unanswered.count) clients of correct validators never answered, e.g. \(unanswered.prefix(3).joined(separator: ", "))")
        }
    }
}

// MARK: the answer bound (L6)

extension SimChecker {
    /// How long a request sent while the load of the quiet phase runs may wait for its answer, in
    /// ticks. A censoring primary is replaced once the censored origin's oldest request has waited
    /// `starvationTicks` (8 request timeouts) at the head of its queue, whatever else executes;
    /// the head is no younger than the request, so that is at most 8 request timeouts after it was
    /// sent. Then a view change: its request (or new-view) timeout and its view-change timeout,
    /// twice, as the first new view may fail (its NEW-VIEW lost or its primary behind); then the
    /// batch, a transfer for an origin left behind (its sync timeout), latency and fsyncs (1 s).
    var answerBoundTicks: Int {
        let o = world.scenario.options
        return 8 * o.requestTimeoutTicks + 2 * (o.requestTimeoutTicks + o.viewChangeTimeoutTicks)
            + o.batchTimeoutTicks + world.scenario.syncTimeoutTicks + 100
    }

    /// Every request of the load phase whose bound ended before the run did was answered by then.
    func checkAnswerBound() {
        let bound = UInt64(answerBoundTicks) * 10
        let load = world.loadTicks
        let window = UInt64(load.lowerBound) * 10..<UInt64(load.upperBound) * 10
        var late: [String] = []
        for request in world.clients.requests where correctOrigin(request.host) && window.contains(request.submittedAt) {
            let deadline = request.submittedAt + bound
            guard deadline <= world.now else { continue }
            if let first = request.answers.first, first.at <= deadline { continue }
            late.append(request.txid + (request.answers.first.map { " (answered after \(($0.at - request.submittedAt) / 10) ticks)" } ?? " (never answered)"))
        }
        guard !late.isEmpty else { return }
        violate(.answerBound, "\(late.count) requests sent while load ran after the faults stopped waited longer than \(answerBoundTicks) ticks, e.g. \(late.prefix(3).joined(separator: ", "))")
    }

    private func correctOrigin(_ host: Int) -> Bool { world.byzantine?.id != host }
}
