import Foundation
import XCTest
@testable import Weft

/// Byzantine primaries against the request checks (issue 21: S2, L6), on the
/// seeded simulated network: requests travel from their origins only, and
/// primary 0 rewrites its PRE-PREPAREs on the way out.
final class PBFTAuthenticatedRequestTests: XCTestCase {
    /// Primary 0's PRE-PREPAREs of view 0, with their batch rewritten by `lie` (digest recomputed).
    private func lyingPrimary(_ net: SimulatedNetwork, _ lie: @escaping (inout [Pbft_request]) -> Void) {
        net.outboundHook = { e in
            guard e.from == 0, case .pbft(let m) = e.payload, case .prePrepare(var pp) = m.payload, pp.view == 0 else { return [e] }
            lie(&pp.requestBatch.batch)
            pp.batchDigest = pp.requestBatch.batch.isEmpty ? "" : PBFTDigest.of(pp.requestBatch)
            return [.init(from: 0, to: e.to, payload: .pbft(PBFTMake.message(.prePrepare(pp))))]
        }
    }

    private func txids(_ net: SimulatedNetwork, _ r: Int) throws -> [String] {
        try net.blocks[r].flatMap { try Protos_Block(serializedBytes: $0).transactions.map(\.txid) }
    }

    /// Twelve transactions through replicas 1, 2, 3: each is in every honest chain once,
    /// no forgery is, the lying primary was replaced, and the honest replicas agree.
    private func assertHonestOrderOnlyTheirOwn(_ net: SimulatedNetwork, file: StaticString = #filePath, line: UInt = #line) throws {
        var sent: [String] = []
        for t in 0..<12 {
            let txid = "tx\(t)"
            net.submit(txid, at: 1 + t % 3)
            sent.append(txid)
            net.run(steps: 10)
        }
        XCTAssertTrue(net.runUntilQuiet(maxSteps: 300_000, among: [1, 2, 3]), "outstanding: \(net.replicas.map(\.outstandingCount))")
        for r in 1...3 {
            let chain = try txids(net, r)
            XCTAssertFalse(chain.contains { $0.hasPrefix("forged") }, "replica \(r) executed a forged request: \(chain)")
            XCTAssertEqual(chain.sorted(), sent.sorted(), "replica \(r): each transaction once", file: file, line: line)
            XCTAssertGreaterThanOrEqual(net.replicas[r].view, 1, "replica \(r): the lying primary was replaced", file: file, line: line)
        }
        XCTAssertNil(net.agreementProblem(among: [1, 2, 3]), file: file, line: line)
    }

    /// S2 (a): the primary puts its own payload under replica 1's key. No honest
    /// replica executes it; the primary is replaced and replica 1's own
    /// transactions are ordered, each once.
    func testPrimaryCannotReplaceAPayloadUnderAnotherReplicasKey() throws {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 2, requestTimeoutTicks: 30)
        let net = SimulatedNetwork(options: o, seed: 11)
        lyingPrimary(net) { batch in
            for i in batch.indices where batch[i].replicaID == 1 {
                batch[i].payload = SimulatedNetwork.transaction("forged-\(batch[i].timestamp.seconds)")
            }
        }
        try assertHonestOrderOnlyTheirOwn(net)
        XCTAssertGreaterThan((1...3).map { net.replicas[$0].counters.droppedForgedRequests }.reduce(0, +), 0)
    }

    /// S2 (b): the primary adds a request under each other replica's id with the
    /// largest timestamp. None executes, so no replica's later requests are refused
    /// as already executed: every one is ordered once the primary is replaced.
    func testPrimaryCannotExhaustAnotherReplicasTimestamps() throws {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 2, requestTimeoutTicks: 30)
        let net = SimulatedNetwork(options: o, seed: 12)
        lyingPrimary(net) { batch in
            for victim: UInt64 in 1...3 {
                var r = Pbft_request()
                r.replicaID = victim
                r.timestamp.seconds = Int64.max
                r.timestamp.nanos = 999_999_999
                r.payload = SimulatedNetwork.transaction("forged-max-\(victim)")
                batch.append(r)
            }
        }
        try assertHonestOrderOnlyTheirOwn(net)
        for r in 1...3 { XCTAssertFalse(net.completed[r].contains { $0.seconds == Int64.max }, "replica \(r)") }
    }

    /// L6: the primary orders everything but replica 1's requests, under steady
    /// load from replicas 2 and 3 (a batch executes every few ticks, well within
    /// the request timeout). Replica 1's request is still ordered within a bound:
    /// its age, not the time since the last execution, starts the view change.
    func testCensoringPrimaryIsReplacedUnderSteadyLoad() throws {
        let timeout = 30
        let o = PBFTOptions(n: 4, f: 1, batchSize: 4, requestTimeoutTicks: timeout, viewChangeTimeoutTicks: timeout)
        let net = SimulatedNetwork(options: o, seed: 13)
        // Primary 0 takes no request of replica 1 (as if it dropped them), and orders the rest.
        net.requestsLost = { from, to in from == 1 && to == 0 }
        net.submit("censored", at: 1)
        var ordered = false
        // Steady load: a transaction every two ticks for 40 request timeouts, bounded.
        for t in 0..<(20 * timeout) where !ordered {
            net.submit("load\(t)", at: 2 + t % 2)
            net.run(steps: 2 * net.deliveriesPerTick)
            ordered = try (1...3).allSatisfy { try txids(net, $0).contains("censored") }
        }
        XCTAssertTrue(ordered, "replica 1's request was never ordered: views \(net.replicas.map(\.view)), ticks \(net.ticks)")
        XCTAssertTrue((1...3).allSatisfy { net.replicas[$0].view >= 1 }, "views \(net.replicas.map(\.view))")
        XCTAssertNil(net.agreementProblem(among: [1, 2, 3]))
    }

    /// The other side of L6: honest replicas under load well above what one batch
    /// round orders (every replica's queue grows) keep their view: the oldest
    /// request here is ordered in the next batches, each completing it restarts the timer.
    func testNoViewChangeUnderPlainOverload() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 4, requestTimeoutTicks: 30, viewChangeTimeoutTicks: 30)
        let net = SimulatedNetwork(options: o, seed: 14)
        // A burst that takes many request timeouts to order (the network delivers 20 messages a tick).
        for t in 0..<100 { net.submit("tx\(t)", at: t % 4) }
        XCTAssertTrue(net.runUntilQuiet(maxSteps: 400_000), "outstanding: \(net.replicas.map(\.outstandingCount))")
        XCTAssertEqual(net.replicas.map(\.view), [0, 0, 0, 0], "a view change under plain overload")
        XCTAssertEqual(Set(net.heights).count, 1)
        XCTAssertNil(net.agreementProblem())
    }

    /// A backup that holds a PRE-PREPARE for a request whose spread has not
    /// arrived accepts it once the spread comes, without a view change.
    func testPrePrepareWaitsForItsRequestFromTheOrigin() {
        var o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 1_000)
        o.authenticatedRequests = true
        let backup = PBFTReplica(id: 1, options: o)
        let request = PBFTMake.request("late", replica: 2, seconds: 5)
        let batch = PBFTMake.batch([request])
        backup.receive(PBFTMake.prePrepare(n: 1, batch: batch), from: 0)
        XCTAssertTrue(backup.takeActions().broadcastPrepares.isEmpty, "prepared a request it never received from its origin")
        XCTAssertEqual(backup.counters.heldPrePrepares, 1)
        backup.receiveRequest(request)
        XCTAssertEqual(backup.takeActions().broadcastPrepares.map(\.sequenceNumber), [1])

        // Another payload under the same key: never prepared, and the primary replaced when the
        // request timer runs out (its origin may still send that payload: PBFTReusedRequestKeyTests).
        var forged = PBFTMake.request("other", replica: 2, seconds: 5)
        forged.payload = SimulatedNetwork.transaction("other")
        let other = PBFTReplica(id: 3, options: o)
        other.receiveRequest(request)
        other.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([forged])), from: 0)
        var reasons: [PBFTViewChangeReason] = []
        for _ in 0...o.requestTimeoutTicks where reasons.isEmpty {
            let actions = other.takeActions()
            XCTAssertTrue(actions.broadcastPrepares.isEmpty)
            reasons = actions.viewChangesStarted.map(\.reason)
            other.tick()
        }
        XCTAssertEqual(reasons, [.forgedRequest])
        XCTAssertEqual(other.counters.droppedForgedRequests, 1)
    }

    /// A correct primary may propose a request its origin already had overtaken here: the
    /// primary had not yet executed the later one, or the origin's requests reached it out of
    /// order (a resend after a view change). That is no forgery: the backup prepares the batch,
    /// and execution skips the stale request. (Before: "a key already executed" counted as
    /// forged, and under load correct primaries were replaced view after view.)
    func testAStaleRequestInACorrectPrimarysBatchIsNoForgery() {
        var o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 1_000)
        o.authenticatedRequests = true
        let backup = PBFTReplica(id: 1, options: o)
        let early = PBFTMake.request("early", replica: 2, seconds: 5)
        let later = PBFTMake.request("later", replica: 2, seconds: 6)
        backup.receiveRequest(later)
        let first = PBFTMake.batch([later])
        let d1 = PBFTDigest.of(first)
        backup.receive(PBFTMake.prePrepare(n: 1, batch: first), from: 0)
        backup.receive(PBFTMake.prepare(n: 1, digest: d1, replica: 2), from: 2)
        for k: UInt64 in [0, 2] { backup.receive(PBFTMake.commit(n: 1, digest: d1, replica: k), from: k) }
        XCTAssertTrue(backup.takeActions().contains { if case .execute(1, _, _) = $0 { return true }; return false })
        XCTAssertTrue(backup.pool.isExecutedOrOlder(RequestKey(early)))

        backup.receive(PBFTMake.prePrepare(n: 2, batch: PBFTMake.batch([early])), from: 0)
        let actions = backup.takeActions()
        XCTAssertEqual(actions.viewChangesStarted.map(\.reason), [], "a correct primary suspected")
        XCTAssertEqual(actions.broadcastPrepares.map(\.sequenceNumber), [2])
        XCTAssertEqual(backup.counters.droppedForgedRequests, 0)
    }

    /// Execution skips a stale request, whatever its payload, the same on every replica; the
    /// block's metadata carries the stamps, and a replica that adopts the block (a state
    /// transfer) or restarts from it resumes from them.
    func testStaleRequestsAreSkippedAndTheStampsTravelWithTheBlock() throws {
        var a = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100))
        var b = a
        let later = PBFTMake.request("later", replica: 2, seconds: 6)
        var forgedEarly = PBFTMake.request("early", replica: 2, seconds: 5)
        forgedEarly.payload = SimulatedNetwork.transaction("forged")
        let batch = PBFTMake.batch([later, forgedEarly, PBFTMake.request("other", replica: 3, seconds: 1)])
        let blockA = a.assemble(sequence: 1, batch: batch)
        let blockB = b.assemble(sequence: 1, batch: batch)
        XCTAssertEqual(blockA.bytes, blockB.bytes)
        XCTAssertEqual(blockA.included.map(\.txid), ["later", "other"])
        XCTAssertEqual(blockA.stale.map(RequestKey.init), [RequestKey(forgedEarly)])

        let decoded = try Protos_Block(serializedBytes: blockA.bytes)
        let stamps = BlockAssembler.requestStamps(of: decoded)
        XCTAssertEqual(stamps, a.requestStamps)
        XCTAssertTrue(stamps.isStale(RequestKey(later)))
        XCTAssertFalse(stamps.isStale(RequestKey(PBFTMake.request("next", replica: 2, seconds: 7))))
        var fresh = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100))
        fresh.adopt(decoded, bytes: blockA.bytes)
        XCTAssertEqual(fresh.requestStamps, a.requestStamps)

        // The transferred replica's pool refuses what the transferred block executed.
        var o = PBFTOptions(n: 4, f: 1)
        o.authenticatedRequests = true
        let replica = PBFTReplica(id: 1, options: o)
        replica.requestStateTransfer(sequence: 1, id: fresh.checkpointID, replicas: [0, 2])
        replica.stateTransferCompleted(sequence: 1, checkpointID: fresh.checkpointID, requestStamps: fresh.requestStamps)
        replica.receiveRequest(later)
        XCTAssertEqual(replica.outstandingCount, 0, "took a request the transferred blocks executed")
        replica.receiveRequest(PBFTMake.request("next", replica: 2, seconds: 7))
        XCTAssertEqual(replica.outstandingCount, 1, "refused a request after the stamps")
    }
}
