import Foundation
import Logging
import XCTest
@testable import Weft

/// L4: request stamps survive a restart with the wall clock behind. The real
/// PBFTHost, over a fake clock, network, ledger and an in-memory record store.
final class PBFTRequestStampTests: XCTestCase {
    final class Clock: PBFTClock {
        var wall: (seconds: Int64, nanos: Int32) = (1_800_000_000, 0)
        func monotonicNanos() -> UInt64 { 1 }
        func wallClock() -> (seconds: Int64, nanos: Int32) { wall }
    }

    /// Every record and every message, in the order the host made them.
    final class World: Communicator, PBFTLedger, PBFTRecordStore, @unchecked Sendable {
        var events: [String] = []
        var records: [String: [UInt8]] = [:]
        var spreads: [Pbft_request] = []
        var answers: [Protos_Response] = []
        func broadcast(_ message: consuming Message, to target: BroadcastTarget) {
            switch PBFTEnvelope.open(message.payload) {
            case .request(let r):
                spreads.append(r)
                events.append("spread")
            case .requests(let rs):
                spreads += rs
                events += rs.map { _ in "spread" }
            default:
                break
            }
        }
        func unicast(_ message: consuming Message, to peer: PeerID) throws(CommunicatorError) {
            if let response = try? Protos_Response(serializedBytes: message.payload) { answers.append(response) }
        }
        func peers() -> [PeerInfo] { [] }
        var durableHeight: UInt64 { 0 }
        func append(_ bytes: [UInt8]) {}
        func takeOutcomes() -> [Result<Void, Error>] { [] }
        func answerBlockRequest(_ payload: [UInt8]) -> Message? { nil }
        func finish() {}
        private var submitted: UInt64 = 0
        func submit(_ records: [(key: String, value: [UInt8]?)]) -> UInt64 {
            for (key, value) in records {
                self.records[key] = value
                events.append("record \(key)")
            }
            events.append("sync")
            submitted += 1
            return submitted
        }
        var durableTicket: UInt64 { submitted }
        var failure: String? { nil }
    }

    private func host(_ world: World, _ clock: Clock) -> PBFTHost {
        var o = PBFTOptions(n: 4, f: 1, requestTimeoutTicks: 1_000_000)
        o.authenticatedRequests = true
        let settings = PBFTHostSettings(options: o, replicaNames: ["vp0", "vp1", "vp2", "vp3"], selfReplica: 1,
                                        maxTransactionBytes: 1 << 20, blocksPerRequest: 10, syncTimeoutTicks: 100)
        let replica = PBFTReplica(id: 1, options: o, restoring: world.records)
        let host = PBFTHost(settings: settings, replica: replica,
                            assembler: BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 100)),
                            stamper: RequestStamper(ceilingRecord: world.records[RequestStamper.ceilingKey]),
                            network: world, clock: clock, ledger: world, records: world, signatures: nil, byzantine: nil,
                            metrics: PBFTMetrics(), logger: Logger(label: "test"))
        return host
    }

    private func submit(_ host: PBFTHost, _ txid: String) {
        host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction(txid)), from: PeerID(name: "client"))
        host.flush()
    }

    func testStampsAfterARestartWithTheClockBehindAreAfterEveryStampBefore() {
        let world = World(), clock = Clock()
        var first = host(world, clock)
        for i in 0..<100 {
            clock.wall.nanos = Int32(i * 1000)
            submit(first, "before-\(i)")
        }
        XCTAssertEqual(world.spreads.count, 100)
        XCTAssertEqual(world.events.first, "record \(RequestStamper.ceilingKey)", "the ceiling is recorded before the first request is sent")
        XCTAssertEqual(world.events.filter { $0.hasPrefix("record") }.count, 1, "one record for 100 requests, not one per request")
        let last = RequestKey(world.spreads.last!)

        // Restart with the wall clock an hour behind: the new stamps are after the old ones.
        first.stop()
        clock.wall = (clock.wall.seconds - 3600, 0)
        first = host(world, clock)
        submit(first, "after")
        let again = RequestKey(world.spreads.last!)
        XCTAssertTrue((again.seconds, again.nanos) > (last.seconds, last.nanos), "\(again) is not after \(last)")
        // Another replica that executed the last request before the restart takes the new one.
        var other = RequestPool()
        _ = other.executed(PBFTMake.batch([world.spreads[99]]))
        XCTAssertEqual(other.add(world.spreads.last!, tick: 0), .added)
        XCTAssertFalse(world.answers.contains { $0.status == .failure && !String(decoding: $0.msg, as: UTF8.self).contains("shutting down") },
                       "\(world.answers.map { String(decoding: $0.msg, as: UTF8.self) })")
    }

    /// The peer and the whole-host simulator rebuild a host through `PBFTRecovery`, which
    /// gives the stamper its recorded ceiling. (The simulator once rebuilt hosts without it:
    /// seed 117, a host restarted with its clock behind stamped requests its peers had
    /// executed, and they refused every batch carrying one, view after view.)
    func testRecoveryRestoresTheStampCeiling() throws {
        let ceiling: Int64 = 1_800_000_060
        let (_, _, recovered) = PBFTRecovery.recover(
            id: 1, options: PBFTOptions(n: 4, f: 1), txidWindow: 10, height: 0, lastHash: [], previousHash: [],
            lastBlock: nil, chainTxids: [], records: [RequestStamper.ceilingKey: Array(String(ceiling).utf8)])
        var stamper = recovered
        XCTAssertEqual(stamper.ceiling, ceiling)
        let (stamp, _) = try XCTUnwrap(stamper.next(wallClock: (ceiling - 3600, 0)))
        XCTAssertGreaterThanOrEqual(stamp.seconds, ceiling, "a stamp below the recorded ceiling after a restart")
    }
}
