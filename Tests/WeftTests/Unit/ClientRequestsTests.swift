import Foundation
import XCTest
@testable import Weft

/// Which client a block answers, and how, when its request was stamped anew.
final class ClientRequestsTests: XCTestCase {
    private func key(_ nanos: Int32) -> RequestKey { RequestKey(replica: 1, seconds: 100, nanos: nanos) }

    private func request(_ key: RequestKey, _ payload: Data) -> Pbft_request {
        var r = Pbft_request()
        r.replicaID = key.replica
        r.timestamp.seconds = key.seconds
        r.timestamp.nanos = key.nanos
        r.payload = payload
        return r
    }

    /// One block with `txid` under `key`; `duplicate`: the txid was already in the chain.
    private func block(_ txid: String, _ key: RequestKey, duplicate: Bool) -> AssembledBlock {
        AssembledBlock(bytes: [], hash: [], number: 1, included: duplicate ? [] : [(txid, key)],
                       duplicates: duplicate ? [(txid, key)] : [], malformed: [])
    }

    /// A request stamped anew twice (overtaken, then dropped by a state transfer): the first
    /// copy ordered answers its client SUCCESS, and the last copy, skipped later as a duplicate
    /// txid, answers nothing more. (Before: the client was answered FAILURE "duplicate txid"
    /// for a transaction that is in the chain — the middle key broke the chain of re-stamps.)
    func testAClientRestampedTwiceIsAnsweredSuccessForTheFirstCopyOrdered() {
        let clients = ClientRequests()
        let payload = SimulatedNetwork.transaction("tx-1")
        let (k1, k2, k3) = (key(1), key(2), key(3))
        clients.wait(k1, .init(client: PeerID(name: "client"), txid: "tx-1", receivedAt: 0, payload: payload))
        XCTAssertNotNil(clients.restamp(from: k1, to: k2))
        XCTAssertNotNil(clients.restamp(from: k2, to: k3))

        var settled = 0
        let first = clients.answers(for: block("tx-1", k1, duplicate: false), batch: PBFTMake.batch([request(k1, payload)])) { _ in settled += 1 }
        XCTAssertEqual(first.map(\.txid), ["tx-1"])
        XCTAssertEqual(first.map(\.duplicate), [false])
        XCTAssertEqual(first.map(\.displaced), [false])
        XCTAssertEqual(settled, 1)
        XCTAssertEqual(clients.count, 0)

        let later = clients.answers(for: block("tx-1", k3, duplicate: true), batch: PBFTMake.batch([request(k3, payload)])) { _ in settled += 1 }
        XCTAssertEqual(later.count, 0, "the client was answered once already: \(later)")
    }

    /// The middle copy ordered first answers SUCCESS too.
    func testTheMiddleCopyOrderedFirstAnswersSuccess() {
        let clients = ClientRequests()
        let payload = SimulatedNetwork.transaction("tx-2")
        let (k1, k2, k3) = (key(1), key(2), key(3))
        clients.wait(k1, .init(client: PeerID(name: "client"), txid: "tx-2", receivedAt: 0, payload: payload))
        _ = clients.restamp(from: k1, to: k2)
        _ = clients.restamp(from: k2, to: k3)
        let answers = clients.answers(for: block("tx-2", k2, duplicate: false), batch: PBFTMake.batch([request(k2, payload)])) { _ in }
        XCTAssertEqual(answers.map(\.duplicate), [false])
        XCTAssertEqual(answers.map(\.displaced), [false])
        XCTAssertEqual(clients.count, 0)
    }
}
