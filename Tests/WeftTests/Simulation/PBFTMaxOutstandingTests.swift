import Foundation
import XCTest
@testable import Weft

/// `pbft.general.maxoutstanding`: while the record store stalls (a disk that does not
/// sync), a validator keeps taking its clients' transactions; past the limit each one
/// more is answered FAILURE at once, naming the key, and nothing more is held for the
/// disk. (Before: no bound; every transaction of a flood was held in memory as a spread
/// waiting for the records ahead of it.) The real PBFTHost over HostHarness's ports.
final class PBFTMaxOutstandingTests: XCTestCase {
    func testPastTheLimitAClientIsAnsweredAtOnceAndNothingMoreIsHeld() throws {
        let h = try HostHarness(id: 1, maxOutstanding: 3)
        h.records.syncsAtOnce = false   // the disk stalls: nothing leaves
        for n in 0..<5 {
            h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction("tx\(n)")), from: PeerID(name: "client-\(n)"))
        }
        h.host.flush()
        XCTAssertEqual(h.events.list.filter { $0.hasPrefix("answer") }, ["answer failure", "answer failure"])
        XCTAssertEqual(h.host.replica.outstandingCount, 3, "three taken, two refused")
        XCTAssertEqual(h.network.spreads.count, 0, "the spreads wait for the stalled records")
        var text = ""
        h.metrics.write(to: &text)
        XCTAssertTrue(text.contains("weft_pbft_messages_dropped_total{cause=\"overloaded\"} 2"), text)
        h.records.completeSync()
        h.host.recordsSettled()
        XCTAssertEqual(h.network.spreads.count, 3, "the three taken go out once the records are durable")
    }
}
