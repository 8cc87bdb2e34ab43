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

    /// Three clients' transactions in one burst leave in one envelope, in order; the next
    /// burst's in another. (Before: one CONSENSUS frame per request to each replica.)
    func testTheRequestsOfOneBurstAreSpreadInOneEnvelope() throws {
        let h = try HostHarness(id: 1)
        func burst(_ txids: [String]) {
            for txid in txids {
                h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction(txid)), from: PeerID(name: "client-\(txid)"))
            }
            h.host.flush()
        }
        burst(["a", "b", "c"])
        burst(["d"])
        let spreadsSent = h.events.list.filter { $0 == "send consensus" }.count
        XCTAssertEqual(spreadsSent, 2, "\(h.events.list)")
        let txids = try h.network.spreads.map { try Protos_Transaction(serializedBytes: $0.payload).txid }
        XCTAssertEqual(txids, ["a", "b", "c", "d"])
        let keys = h.network.spreads.map(RequestKey.init)
        XCTAssertEqual(keys, keys.sorted(), "stamps in the order the requests were made")
    }

    /// A round's spreads are cut so that each envelope fits the batch byte limit.
    func testABatchIsCutAtTheByteLimit() {
        var buffer = SpreadBuffer(maxBytes: 300)
        var sent: [[Pbft_request]] = []
        for i in 0..<5 {
            var r = PBFTMake.request("t\(i)", replica: 1, seconds: Int64(i + 1))
            r.payload = Data(repeating: UInt8(i), count: 100)
            if let full = buffer.add(r) { sent.append(full) }
        }
        sent.append(buffer.take())
        XCTAssertEqual(sent.map(\.count), [2, 2, 1], "148 bytes counted a request: two a batch under 300")
        XCTAssertTrue(buffer.isEmpty)
    }
}
