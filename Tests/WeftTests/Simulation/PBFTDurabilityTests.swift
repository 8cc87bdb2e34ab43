import Foundation
import XCTest
@testable import Weft

/// Durable before dependent (issue 21, L3 and R2): records are synced before
/// any message that depends on them, once per burst; a checkpoint is announced
/// only for a durable block; a batch whose record was lost is never executed
/// as an empty block.
final class PBFTDurabilityTests: XCTestCase {
    /// R2: the PRE-PREPARE's records (batch, Q set) are synced before the PREPARE goes out.
    func testRecordsAreSyncedBeforeTheMessageThatDependsOnThem() throws {
        let h = try HostHarness()
        let request = PBFTMake.request("a", replica: 0)
        h.deliverSpread(request)
        h.deliver(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([request])), from: 0)
        h.host.flush()
        let list = h.events.list
        let prepare = try XCTUnwrap(list.firstIndex(of: "send PREPARE"), "\(list)")
        let sync = try XCTUnwrap(list.firstIndex(of: "sync"), "no sync at all: \(list)")
        XCTAssertLessThan(sync, prepare, "\(list)")
        for (i, event) in list.enumerated() where event.hasPrefix("apply ") {
            XCTAssertLessThan(i, sync, "a record applied after the sync that should cover it: \(list)")
        }
    }

    /// Group commit: every record a burst of messages readies is made durable by one sync.
    func testOneSyncForAWholeBurst() throws {
        let h = try HostHarness()
        for n: UInt64 in 1...3 {
            let request = PBFTMake.request("t\(n)", replica: 0, seconds: Int64(n))
            h.deliverSpread(request)
            h.deliver(PBFTMake.prePrepare(n: n, batch: PBFTMake.batch([request])), from: 0)
        }
        XCTAssertEqual(h.records.syncs, 0, "nothing is stored or sent before the burst ends")
        XCTAssertFalse(h.events.list.contains("send PREPARE"))
        h.host.flush()
        XCTAssertEqual(h.records.syncs, 1, "\(h.events.list)")
        XCTAssertEqual(h.events.list.filter { $0 == "send PREPARE" }.count, 3)
    }

    /// L3: executing sequence K (a checkpoint) announces nothing until the block is durable.
    func testACheckpointIsAnnouncedOnlyForADurableBlock() throws {
        let h = try HostHarness(k: 1)
        h.commit(sequence: 1, txid: "a")
        h.host.flush()
        XCTAssertEqual(h.ledger.blocks.count, 1, "sequence 1 executed into a block: \(h.events.list)")
        XCTAssertEqual(h.network.checkpoints, [], "a CHECKPOINT for a block that is not durable yet")
        XCTAssertNil(h.records.applied["chkpt.1"], "its own checkpoint recorded before the block is durable")
        XCTAssertEqual(h.host.replica.lastExecuted, 0)

        h.ledger.makeDurable()
        h.host.ledgerSettled()
        XCTAssertEqual(h.network.checkpoints.map(\.sequenceNumber), [1])
        XCTAssertNotNil(h.records.applied["chkpt.1"])
        XCTAssertEqual(h.host.replica.lastExecuted, 1)
    }

    /// R2: a Q entry restored without its batch record is not executed as an empty block.
    func testABatchLostWithItsRecordIsNotExecutedEmpty() {
        let options = PBFTOptions(n: 4, f: 1, k: 10, logMultiplier: 4, batchSize: 10)
        let batch = PBFTMake.batch("a", "b")
        let digest = PBFTDigest.of(batch)
        var q = Pbft_view_change.PQ()
        q.sequenceNumber = 1
        q.batchDigest = digest
        q.view = 0
        let records: [String: [UInt8]] = [
            PBFTPersistence.viewKey: Array("0".utf8),
            PBFTPersistence.qsetKey: PBFTPersistence.encode([q]),
            // "batch.<digest>" did not survive
        ]
        let replica = PBFTReplica(id: 1, options: options, restoring: records)
        for r: UInt64 in [2, 3] { replica.receive(PBFTMake.prepare(n: 1, digest: digest, replica: r), from: r) }
        for r: UInt64 in [0, 2, 3] { replica.receive(PBFTMake.commit(n: 1, digest: digest, replica: r), from: r) }
        let executions = replica.takeActions().compactMap { action -> Pbft_request_batch? in
            if case .execute(_, let b, _) = action { return b } else { return nil }
        }
        XCTAssertEqual(executions.map(\.batch.count), [], "executed a batch it does not hold")
    }
}
