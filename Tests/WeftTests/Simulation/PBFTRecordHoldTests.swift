import Foundation
import XCTest
@testable import Weft

/// Durable before dependent, off the fan thread (issue 21, issue 24): the
/// records are handed to the store and the host goes on; everything readied
/// after them — messages, spreads, executions — reaches the world only once
/// the store says they are durable, in the order it was readied.
final class PBFTRecordHoldTests: XCTestCase {
    private func sends(_ h: HostHarness) -> [String] { h.events.list.filter { $0.hasPrefix("send ") } }

    /// A backup's PREPARE (and the COMMIT after it) waits for its records' fsync, while the
    /// host keeps taking messages and the replica keeps running in memory.
    func testAMessageIsNotSentBeforeTheRecordsBeforeItAreDurable() throws {
        let (h, request) = try backupWithAPrePrepareNotYetDurable()
        let digest = PBFTDigest.of(PBFTMake.batch([request]))
        let prePrepareRecords = h.records.submitted
        XCTAssertGreaterThan(prePrepareRecords, 0, "the PRE-PREPARE's records were handed over: \(h.events.list)")
        XCTAssertEqual(sends(h), [], "sent before its records were durable: \(h.events.list)")

        // The host takes more messages meanwhile: the replica is prepared in memory.
        for r: UInt64 in [2, 3] { h.deliver(PBFTMake.prepare(n: 1, digest: digest, replica: r), from: r) }
        h.host.flush()
        XCTAssertEqual(sends(h), [], "\(h.events.list)")
        XCTAssertGreaterThan(h.records.submitted, prePrepareRecords, "the prepared certificate is recorded too: \(h.events.list)")

        // The first fsync completes: only what followed it goes out.
        h.records.completeSync(through: prePrepareRecords)
        h.host.recordsSettled()
        XCTAssertEqual(sends(h), ["send PREPARE"], "\(h.events.list)")

        h.records.completeSync()
        h.host.recordsSettled()
        XCTAssertEqual(sends(h), ["send PREPARE", "send COMMIT"], "\(h.events.list)")
        let list = h.events.list
        XCTAssertLessThan(try XCTUnwrap(list.lastIndex(of: "sync")), try XCTUnwrap(list.firstIndex(of: "send COMMIT")), "\(list)")
    }

    /// Order across syncs: a round with no records of its own (a client's spread) waits
    /// behind an earlier round's records, and executions wait like messages.
    func testReadiesKeepTheirOrderAcrossSyncs() throws {
        let h = try HostHarness()
        submit(h, "first")   // records the stamp ceiling, durable at once
        XCTAssertEqual(sends(h), ["send consensus"], "the first spread: \(h.events.list)")
        h.records.syncsAtOnce = false

        // Sequence 1 commits at this backup; its records wait for an fsync.
        h.commit(sequence: 1, txid: "a")
        h.host.flush()
        let commitRecords = h.records.submitted
        // A client's transaction: its spread has no record of its own (the ceiling is durable).
        submit(h, "second")
        XCTAssertEqual(h.records.submitted, commitRecords, "the second spread readied no record")
        XCTAssertEqual(sends(h), ["send consensus"], "the second spread overtook records made before it: \(h.events.list)")
        XCTAssertEqual(h.ledger.blocks.count, 0, "executed before the commit's records were durable")

        h.records.completeSync()
        h.host.recordsSettled()
        XCTAssertEqual(sends(h), ["send consensus", "send PREPARE", "send COMMIT", "send consensus"],
                       "released in the order readied: \(h.events.list)")
        XCTAssertEqual(h.ledger.blocks.count, 1, "sequence 1 executed once its records were durable")
    }

    /// A failed fsync: the replica stops taking part, nothing held is ever sent, the health check fails.
    func testAFailedSyncSendsNothingHeldAndFailsTheHealthCheck() throws {
        let (h, request) = try backupWithAPrePrepareNotYetDurable()
        h.records.failSync("fdatasync records.log: Input/output error")
        h.host.recordsSettled()
        XCTAssertNotNil(h.host.storeFailure)
        XCTAssertTrue(h.host.metrics.failedHealthChecks(quorum: 3).contains { $0.contains("Input/output error") })

        for r: UInt64 in [2, 3] { h.deliver(PBFTMake.prepare(n: 1, digest: PBFTDigest.of(PBFTMake.batch([request])), replica: r), from: r) }
        h.host.flush()
        h.host.recordsSettled()
        h.host.stop()
        XCTAssertEqual(sends(h), [], "sent what it could not record: \(h.events.list)")
    }

    /// Shutdown joins the store and flushes what was held, in order.
    func testStopFlushesWhatWasHeldOnceItsRecordsAreDurable() throws {
        let (h, _) = try backupWithAPrePrepareNotYetDurable()
        XCTAssertEqual(sends(h), [])
        h.host.stop()
        let list = h.events.list
        XCTAssertEqual(sends(h), ["send PREPARE"], "\(list)")
        XCTAssertLessThan(try XCTUnwrap(list.firstIndex(of: "sync")), try XCTUnwrap(list.firstIndex(of: "send PREPARE")), "\(list)")
    }

    /// Backup vp1, its record store completing only when told, after vp0's PRE-PREPARE for sequence 1.
    private func backupWithAPrePrepareNotYetDurable() throws -> (HostHarness, Pbft_request) {
        let h = try HostHarness()
        h.records.syncsAtOnce = false
        let request = PBFTMake.request("a", replica: 0)
        h.deliverSpread(request)
        h.deliver(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([request])), from: 0)
        h.host.flush()
        return (h, request)
    }

    private func submit(_ h: HostHarness, _ txid: String) {
        h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction(txid)), from: PeerID(name: "client"))
        h.host.flush()
    }
}
