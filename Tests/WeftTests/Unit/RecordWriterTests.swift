import Dispatch
import Foundation
import Logging
import XCTest
@testable import Weft

/// The records writer over a real file: tickets become durable in order and
/// survive a reopen; a failed sync is reported and nothing after it is ever
/// durable; and a host over it hands a message to the network only once the
/// records it depends on are on disk and fdatasynced.
final class RecordWriterTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-records-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func openWriter() throws -> (RecordWriter, PBFTStore) {
        let store = try PBFTStore(directory: directory)
        _ = try store.load()
        return (RecordWriter(store: store), store)
    }

    private func stored() throws -> [String: [UInt8]] { try PBFTStore(directory: directory).load() }

    func testTicketsBecomeDurableInOrderAndSurviveAReopen() throws {
        let (writer, _) = try openWriter()
        let announced = expectation(description: "onDurable")
        announced.assertForOverFulfill = false
        writer.onDurable = { announced.fulfill() }
        XCTAssertEqual(writer.submit([("view", Array("1".utf8))]), 1)
        XCTAssertEqual(writer.submit([("batch.x", [1, 2, 3]), ("view", Array("2".utf8))]), 2)
        XCTAssertEqual(writer.submit([("batch.x", nil)]), 3)
        writer.finish()
        wait(for: [announced], timeout: 10)
        XCTAssertEqual(writer.durableTicket, 3)
        XCTAssertNil(writer.failure)
        let syncs = writer.syncCount.load(ordering: .relaxed)
        XCTAssertTrue((1...3).contains(syncs), "\(syncs) fdatasyncs for 3 submissions")
        XCTAssertEqual(try stored(), ["view": Array("2".utf8)])
        var metrics = ""
        writer.writeMetrics(to: &metrics)
        XCTAssertTrue(metrics.contains("weft_pbft_record_syncs_total \(syncs)"), metrics)
        XCTAssertTrue(metrics.contains("weft_pbft_records_fsync_duration_seconds_count \(syncs)"), metrics)
    }

    func testAFailedSyncIsReportedAndNothingAfterItIsDurable() throws {
        let (writer, _) = try openWriter()
        _ = writer.submit([("view", Array("1".utf8))])
        writer.finish()
        XCTAssertEqual(writer.durableTicket, 1)
        try FileManager.default.removeItem(atPath: directory)
        _ = writer.submit([("view", Array("2".utf8))])
        writer.finish()
        XCTAssertTrue(writer.failure?.contains("removed or replaced") ?? false, "\(writer.failure ?? "no failure")")
        _ = writer.submit([("view", Array("3".utf8))])
        writer.finish()
        XCTAssertEqual(writer.durableTicket, 1, "durable after a failure")
    }

    /// A backup over the real writer: when its PREPARE reaches the network, the
    /// PRE-PREPARE's batch record is in the log on disk and an fdatasync completed.
    func testAMessageReachesTheNetworkOnlyAfterItsRecordsAreSynced() throws {
        let (writer, _) = try openWriter()
        let queue = DispatchQueue(label: "test.fan")
        let path = directory + "/" + PBFTStore.fileName
        let network = SyncCheckingNetwork { message in
            guard case .prepare? = message.payload else { return nil }
            let bytes = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
            var keys: Set<String> = []
            _ = PBFTStore.replay(bytes) { key, _ in keys.insert(key) }
            return (keys, writer.syncCount.load(ordering: .relaxed))
        }
        let host = makeHost(records: writer, network: network)
        nonisolated(unsafe) let fanHost = host   // touched only on `queue`, as the consenter's host on the fan queue
        writer.onDurable = { queue.async { fanHost.recordsSettled() } }

        let request = PBFTMake.request("a", replica: 0)
        let batch = PBFTMake.batch([request])
        queue.sync {
            host.receive(PBFTEnvelope.spread(request)!, from: PeerID(name: "vp0"))
            host.receive(PBFTEnvelope.carrying(PBFTMake.prePrepare(n: 1, batch: batch))!, from: PeerID(name: "vp0"))
            host.flush()
        }
        let deadline = Date().addingTimeInterval(10)
        while queue.sync(execute: { network.seen.isEmpty }) && Date() < deadline { usleep(1000) }
        let seen = try XCTUnwrap(queue.sync { network.seen.first }, "no PREPARE sent within 10 s")
        XCTAssertTrue(seen.keys.contains { $0.hasPrefix("batch.") } && seen.keys.contains("qset"),
                      "PREPARE sent before the PRE-PREPARE's records (batch, Q set) were on disk: \(seen.keys)")
        XCTAssertGreaterThanOrEqual(seen.syncs, 1, "PREPARE sent before any fdatasync completed")
        queue.sync { host.stop() }
    }

    private func makeHost(records: PBFTRecordStore, network: Communicator) -> PBFTHost {
        let options = PBFTOptions(n: 4, f: 1, k: 2, logMultiplier: 4, batchSize: 10)
        let settings = PBFTHostSettings(options: options, replicaNames: ["vp0", "vp1", "vp2", "vp3"], selfReplica: 1,
                                        maxTransactionBytes: 1 << 20, blocksPerRequest: 10, syncTimeoutTicks: 100)
        let events = HostHarness.Events()
        return PBFTHost(settings: settings, replica: PBFTReplica(id: 1, options: options),
                        assembler: BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100)), stamper: RequestStamper(),
                        network: network, clock: HostHarness.Clock(), ledger: HostHarness.Ledger(events), records: records,
                        signatures: nil, byzantine: nil, metrics: PBFTMetrics(), logger: Logger(label: "test.records"))
    }

    /// Calls `look` on every PBFT message sent and keeps what it returns (on the fan queue).
    final class SyncCheckingNetwork: Communicator, @unchecked Sendable {
        let look: (Pbft_message) -> (keys: Set<String>, syncs: Int)?
        var seen: [(keys: Set<String>, syncs: Int)] = []
        init(_ look: @escaping (Pbft_message) -> (keys: Set<String>, syncs: Int)?) { self.look = look }
        func broadcast(_ message: consuming Weft.Message, to target: BroadcastTarget) { check(message) }
        func unicast(_ message: consuming Weft.Message, to peer: PeerID) throws(CommunicatorError) { check(message) }
        func peers() -> [PeerInfo] { [] }
        private func check(_ message: Weft.Message) {
            guard case .protocolMessage(let inner) = PBFTEnvelope.open(message.payload), let found = look(inner) else { return }
            seen.append(found)
        }
    }
}
