import Foundation
import XCTest
@testable import Weft

/// State transfer to checkpoints that are not multiples of K, and what a replica
/// announces after one (issue 21, hole S1).
final class PBFTStateTransferTests: XCTestCase {
    private func checkpointsAnnounced(_ net: SimulatedNetwork, by r: Int) -> [String] {
        net.actionLog[r].filter { $0.contains("ckpt n") }
    }

    /// Issue 21, S1. N=4, K=10: the COMMITs for 6...15 are lost to replicas 2 and 3
    /// (they stay at 5) while 0 and 1 execute through 15, and traffic stops. 2 and
    /// 3 transfer to the idle checkpoint (15, id15) and must then announce that id,
    /// not the one of 5. Replica 1 restarts with an empty disk and catches up from
    /// what 0, 2 and 3 tell it on reconnection: it must end at 0's chain, and the
    /// next blocks must agree everywhere.
    func testAfterATransferToAnIdleCheckpointTheAnnouncedIdIsTheTransferredOne() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, logMultiplier: 4, batchSize: 1, batchTimeoutTicks: 1,
                            requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20, resendViewChangeTicks: 8)
        let net = SimulatedNetwork(options: o, seed: 61)
        for t in 0..<5 { net.submit("tx\(t)", at: 0); XCTAssertTrue(net.runUntilQuiet()) }
        XCTAssertEqual(net.heights, [5, 5, 5, 5])
        let lagging: Set<UInt64> = [2, 3]
        net.outboundHook = { e in
            guard case .pbft(let m) = e.payload else { return [e] }
            switch m.payload {
            case .commit(let c) where c.sequenceNumber > 5 && !lagging.contains(e.from) && lagging.contains(e.to):
                return []
            case .viewChange where lagging.contains(e.from) && !lagging.contains(e.to):
                return []  // their view change stays between them: 0 and 1 stay in view 0
            default:
                return [e]
            }
        }
        for t in 5..<15 { net.submit("tx\(t)", at: 0) }
        // Before 2 and 3 time out: 0 and 1 need one of them to prepare.
        XCTAssertTrue(net.run(maxSteps: 10_000) { net.executions[0].count == 15 && net.executions[1].count == 15 })
        let caughtUp = net.run(maxSteps: 40_000) {
            net.executions[0].count == 15 && lagging.allSatisfy { net.replicas[Int($0)].lastExecuted == 15 }
        }
        XCTAssertTrue(caughtUp, "executed \(net.replicas.map(\.lastExecuted))")
        XCTAssertEqual(net.heights, [15, 15, 15, 15])
        XCTAssertTrue(net.actionLog[2].contains { $0.hasPrefix("transferred 15") }, "\(net.actionLog[2].filter { $0.contains("transfer") })")
        let id15 = net.assemblers[0].checkpointID
        // What 2 and 3 announce for 15 from now on (idle, and to a replica that reconnects).
        net.run(steps: 2_000)
        net.outboundHook = nil
        for r in [2, 3] {
            let announced = checkpointsAnnounced(net, by: r).filter { $0.contains(" n15 ") }
            XCTAssertFalse(announced.isEmpty, "replica \(r) announces its checkpoint at 15")
            XCTAssertTrue(announced.allSatisfy { $0.contains(String(id15.prefix(16))) }, "replica \(r): \(announced)")
        }
        net.wipe(1)
        net.reconnect(1)
        XCTAssertTrue(net.run(maxSteps: 20_000) { net.replicas[1].lastExecuted >= 15 })
        XCTAssertEqual(net.heights[1], 15, "the restarted replica holds the 15 blocks, not the 5 of a stale id")
        XCTAssertEqual(net.lastHashes[1], net.lastHashes[0])
        for t in 15..<20 { net.submit("tx\(t)", at: 0) }
        XCTAssertTrue(net.runUntilQuiet(), "outstanding \(net.replicas.map(\.outstandingCount))")
        XCTAssertNil(net.agreementProblem())
    }

    /// The host's transfer client compares the target's hash even when its chain
    /// is already at (or past) the target's height: a chain that does not end
    /// there is never "complete" (PROTOCOL.md section 9).
    func testATransferIsCompleteOnlyAtTheTargetsHash() throws {
        var chain = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100))
        var ids: [String] = []
        // One request per block, each stamped after the one before (a stale one would be skipped).
        func batch(_ txid: String, _ n: Int64) -> Pbft_request_batch { PBFTMake.batch([PBFTMake.request(txid, seconds: n)]) }
        for n in 1...3 {
            _ = chain.assemble(sequence: UInt64(n), batch: batch("t\(n)", Int64(n)))
            ids.append(chain.checkpointID)
        }
        var other = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100))
        _ = other.assemble(sequence: 1, batch: batch("t1", 1))
        _ = other.assemble(sequence: 2, batch: batch("elsewhere", 2))
        let here = try XCTUnwrap(StateTransfer(sequence: 2, checkpointID: ids[1], sources: [1], height: chain.height,
                                               lastHash: chain.lastHash, correlationID: 1))
        XCTAssertFalse(here.isComplete, "height 3 is past the target height 2: its hash there is not known here")
        XCTAssertNotNil(here.refusal)
        let same = try XCTUnwrap(StateTransfer(sequence: 2, checkpointID: other.checkpointID, sources: [1],
                                               height: other.height, lastHash: other.lastHash, correlationID: 1))
        XCTAssertTrue(same.isComplete, "already at the target")
        let differs = try XCTUnwrap(StateTransfer(sequence: 2, checkpointID: ids[1], sources: [1], height: other.height,
                                                  lastHash: other.lastHash, correlationID: 1))
        XCTAssertFalse(differs.isComplete, "same height, another hash")
        XCTAssertNotNil(differs.refusal)
        XCTAssertNil(same.refusal)
    }
}
