import Foundation
import XCTest
@testable import Weft

/// A request of this validator's, stamped at the largest time, executed by the chain:
/// only a forger makes one (a byzantine primary with request authentication off, no
/// TLS). The stamper must not trap on it: the process would die of one forged request.
/// Its clients are answered FAILURE naming the cause instead. (Whole-host simulator
/// with S2 reverted: 67 seeds of 1-1000 ended with the process trapping on an
/// arithmetic overflow in `RequestStamper.next`.)
final class PBFTForgedMaxStampTests: XCTestCase {
    func testTheStamperRefusesRatherThanOverflows() {
        var stamper = RequestStamper()
        XCTAssertNotNil(stamper.next(wallClock: (1_800_000_000, 0)))
        let forged = RequestStamps.Stamp(seconds: .max, nanos: 999_999_999)
        XCTAssertNil(stamper.next(wallClock: (1_800_000_000, 0), after: forged))
        let lastValid = RequestStamps.Stamp(seconds: RequestStamper.maxSeconds, nanos: 0)
        XCTAssertNil(stamper.next(wallClock: (1_800_000_000, 0), after: lastValid), "no stamp past Timestamp's year 9999")
    }

    func testAClientIsAnsweredFailureNamingTheCause() throws {
        let h = try HostHarness(id: 1)
        var stamps = RequestStamps()
        var forged = PBFTMake.request("forged", replica: 1, seconds: .max, nanos: 999_999_999)
        forged.replicaID = 1
        _ = stamps.advance(RequestKey(forged))
        h.host.replica.requestStateTransfer(sequence: 2, id: "S2", replicas: [0, 2])
        h.host.replica.stateTransferCompleted(sequence: 2, checkpointID: "S2", requestStamps: stamps)
        h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction("tx")), from: PeerID(name: "client"))
        h.host.flush()
        XCTAssertEqual(h.events.list.filter { $0.hasPrefix("answer") }, ["answer failure"])
        XCTAssertEqual(h.network.spreads.count, 0)
        XCTAssertTrue(h.network.answers.last?.contains("stamped at the largest time") ?? false, "\(h.network.answers)")
    }
}
