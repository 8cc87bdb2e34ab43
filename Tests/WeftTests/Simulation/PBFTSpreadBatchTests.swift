import Foundation
import XCTest
@testable import Weft

/// Requests spread together in one `request_batch` envelope (PROTOCOL.md section 10):
/// what a receiving host takes, and what it refuses. The real PBFTHost over the
/// HostHarness's fake ports.
final class PBFTSpreadBatchTests: XCTestCase {
    private func spreadTogether(_ h: HostHarness, _ requests: [Pbft_request], from sender: String) {
        h.host.receive(PBFTEnvelope.spread(requests)!, from: PeerID(name: sender))
        h.host.flush()
    }

    func testABatchOfItsOriginsRequestsIsTakenWhole() throws {
        let h = try HostHarness(id: 1)
        let requests = (1...3).map { PBFTMake.request("b\($0)", replica: 2, seconds: Int64($0)) }
        let message = try XCTUnwrap(PBFTEnvelope.spread(requests))
        guard case .requests(let opened) = PBFTEnvelope.open(message.payload) else { return XCTFail("not a batch of requests") }
        XCTAssertEqual(opened, requests)
        spreadTogether(h, requests, from: "vp2")
        XCTAssertEqual(h.host.replica.outstandingCount, 3)
    }

    /// A batch naming a request of another origin is refused whole: a validator
    /// spreads only its own (the link authenticates the origin, section 8).
    func testABatchWithAnotherOriginsRequestIsRefusedWhole() throws {
        let h = try HostHarness(id: 1)
        let requests = [PBFTMake.request("own", replica: 2, seconds: 1), PBFTMake.request("forged", replica: 3, seconds: 1)]
        spreadTogether(h, requests, from: "vp2")
        XCTAssertEqual(h.host.replica.outstandingCount, 0)
        var text = ""
        h.host.metrics.write(to: &text)
        XCTAssertTrue(text.contains("weft_pbft_messages_dropped_total{cause=\"wrong_sender\"} 1"), text)
    }

    /// One request alone goes as v0.6 sends it: a `request`, not a batch of one.
    func testOneRequestAloneIsASingleSpread() throws {
        let message = try XCTUnwrap(PBFTEnvelope.spread([PBFTMake.request("alone", replica: 2, seconds: 1)]))
        guard case .request = PBFTEnvelope.open(message.payload) else { return XCTFail("one request went as a batch") }
    }
}
