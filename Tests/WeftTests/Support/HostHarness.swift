import Foundation
import Logging
@testable import Weft

/// One `PBFTHost` over fake ports, driven by hand: every effect it has on the
/// world lands in one ordered `events` list ("apply <key>", "sync",
/// "send <kind>", "append", "answer <status>"), so a test can check what
/// happened before what.
final class HostHarness {
    final class Events { var list: [String] = [] }

    final class Network: Communicator, @unchecked Sendable {
        let events: Events
        var sent: [(to: String?, message: Pbft_message?)] = []
        /// Requests spread (broadcast as `batch_message.request`), in order.
        var spreads: [Pbft_request] = []
        /// The text of every answer to a client, in order.
        var answers: [String] = []
        init(_ events: Events) { self.events = events }
        func broadcast(_ message: consuming Weft.Message, to target: BroadcastTarget) { record(message, to: nil) }
        func unicast(_ message: consuming Weft.Message, to peer: PeerID) throws(CommunicatorError) { record(message, to: peer.name) }
        func peers() -> [PeerInfo] { [] }
        private func record(_ message: Weft.Message, to: String?) {
            if message.type == .response {
                let response = try? Protos_Response(serializedBytes: message.payload)
                answers.append(response.map { String(decoding: $0.msg, as: UTF8.self) } ?? "?")
                let status = response?.status
                events.list.append("answer \(status.map { "\($0)" } ?? "?")")
                return
            }
            var inner: Pbft_message?
            switch PBFTEnvelope.open(message.payload) {
            case .protocolMessage(let m): inner = m
            case .request(let r): spreads.append(r)
            case .requests(let rs): spreads += rs
            default: break
            }
            sent.append((to, inner))
            events.list.append("send " + (inner.map { HostHarness.kind($0) } ?? "\(message.type)"))
        }
        var checkpoints: [Pbft_checkpoint] { sent.compactMap { if case .checkpoint(let c)? = $0.message?.payload { return c } else { return nil } } }
    }

    final class Clock: PBFTClock {
        var nanos: UInt64 = 1
        func monotonicNanos() -> UInt64 { nanos }
        func wallClock() -> (seconds: Int64, nanos: Int32) { (1_800_000_000, 0) }
    }

    /// Blocks become durable only when the test says so.
    final class Ledger: PBFTLedger {
        let events: Events
        var blocks: [[UInt8]] = []
        var durable: UInt64 = 0
        private var reported: UInt64 = 0
        init(_ events: Events) { self.events = events }
        var durableHeight: UInt64 { durable }
        func append(_ bytes: [UInt8]) { blocks.append(bytes); events.list.append("append") }
        func makeDurable() { durable = UInt64(blocks.count) }
        func takeOutcomes() -> [Result<Void, Error>] {
            defer { reported = durable }
            return (reported..<durable).map { _ in .success(()) }
        }
        func answerBlockRequest(_ payload: [UInt8]) -> Weft.Message? { nil }
        func finish() { makeDurable() }
    }

    /// Records durable as soon as submitted ("apply <key>"…, "sync"), or, with
    /// `syncsAtOnce` off, only when the test calls `completeSync()` (or `failSync`).
    final class Records: PBFTRecordStore {
        let events: Events
        var applied: [String: [UInt8]] = [:]
        var syncs = 0
        var syncsAtOnce = true
        private(set) var submitted: UInt64 = 0
        private(set) var durableTicket: UInt64 = 0
        private(set) var failure: String?
        init(_ events: Events) { self.events = events }
        func submit(_ records: [(key: String, value: [UInt8]?)]) -> UInt64 {
            submitted += 1
            for (key, value) in records { applied[key] = value; events.list.append("apply \(key)") }
            if syncsAtOnce { completeSync() }
            return submitted
        }
        /// Everything submitted through `ticket` (default: so far) becomes durable.
        func completeSync(through ticket: UInt64? = nil) {
            let through = min(ticket ?? submitted, submitted)
            guard durableTicket < through else { return }
            syncs += 1
            durableTicket = through
            events.list.append("sync")
        }
        func failSync(_ why: String) { failure = why }
        func finish() { if failure == nil { completeSync() } }
    }

    let events = Events()
    let network: Network
    let ledger: Ledger
    let records: Records
    let metrics = PBFTMetrics()
    let host: PBFTHost

    /// Replica `id` of N=4 (vp0…vp3), checkpoint period `k`.
    init(id: UInt64 = 1, k: UInt64 = 2, maxOutstanding: Int = 20_000) throws {
        network = Network(events)
        ledger = Ledger(events)
        records = Records(events)
        let options = PBFTOptions(n: 4, f: 1, k: k, logMultiplier: 4, batchSize: 10)
        let settings = PBFTHostSettings(options: options, replicaNames: ["vp0", "vp1", "vp2", "vp3"], selfReplica: id,
                                        maxTransactionBytes: 1 << 20, blocksPerRequest: 10, syncTimeoutTicks: 100,
                                        maxOutstanding: maxOutstanding)
        let assembler = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 1000))
        host = PBFTHost(settings: settings, replica: PBFTReplica(id: id, options: options), assembler: assembler, stamper: RequestStamper(),
                        network: network, clock: Clock(), ledger: ledger, records: records, signatures: nil,
                        byzantine: nil, metrics: metrics, logger: Logger(label: "test.host"))
    }

    /// A PBFT message from replica `from`, as its link would deliver it.
    func deliver(_ message: Pbft_message, from: UInt64) {
        host.receive(PBFTEnvelope.carrying(message)!, from: PeerID(name: "vp\(from)"))
    }

    /// A request spread by its origin replica over the origin's own link.
    func deliverSpread(_ request: Pbft_request) {
        host.receive(PBFTEnvelope.spread(request)!, from: PeerID(name: "vp\(request.replicaID)"))
    }

    /// Sequence `n` committed at this backup (vp1): the spread requests, vp0's
    /// PRE-PREPARE, PREPAREs of vp2 and vp3, COMMITs of vp0, vp2 and vp3.
    func commit(sequence n: UInt64, txid: String) {
        let request = PBFTMake.request(txid, replica: 0, seconds: Int64(n))
        let batch = PBFTMake.batch([request])
        let digest = PBFTDigest.of(batch)
        deliverSpread(request)
        deliver(PBFTMake.prePrepare(n: n, batch: batch), from: 0)
        for r: UInt64 in [2, 3] { deliver(PBFTMake.prepare(n: n, digest: digest, replica: r), from: r) }
        for r: UInt64 in [0, 2, 3] { deliver(PBFTMake.commit(n: n, digest: digest, replica: r), from: r) }
    }

    static func kind(_ m: Pbft_message) -> String {
        switch m.payload {
        case .prePrepare: return "PRE-PREPARE"
        case .prepare: return "PREPARE"
        case .commit: return "COMMIT"
        case .checkpoint: return "CHECKPOINT"
        case .viewChange: return "VIEW-CHANGE"
        case .newView: return "NEW-VIEW"
        default: return "other"
        }
    }
}
