import Foundation
import XCTest
@testable import Weft

/// A request key its origin used twice (issue 21, S2's check against amnesia). A
/// validator whose disk was wiped no longer knows the stamps it gave: it resumes
/// after the chain's stamp for itself, and may give a stamp again that its earlier
/// life gave a request still outstanding at the others, with another payload. Both
/// came from the origin over its own link: neither is a forgery, and a primary that
/// proposes either is correct. (Before: a backup holding the other payload called the
/// primary a forger at once; whole-host seed 2076 went through eighteen views that
/// way, each primary refused as soon as it was installed.)
final class PBFTReusedRequestKeyTests: XCTestCase {
    private var options: PBFTOptions {
        var o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 50)
        o.authenticatedRequests = true
        return o
    }

    private func request(_ txid: String) -> Pbft_request {
        var r = PBFTMake.request(txid, replica: 2, seconds: 5)
        r.payload = SimulatedNetwork.transaction(txid)
        return r
    }

    /// Both payloads arrived from the origin: a batch with either is prepared.
    func testABatchWithEitherPayloadTheOriginSentIsPrepared() {
        for proposed in ["before-the-wipe", "after-the-wipe"] {
            let backup = PBFTReplica(id: 1, options: options)
            backup.receiveRequest(request("before-the-wipe"))
            backup.receiveRequest(request("after-the-wipe"))
            backup.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([request(proposed)])), from: 0)
            let actions = backup.takeActions()
            XCTAssertEqual(actions.viewChangesStarted.map(\.reason), [], "\(proposed): a correct primary suspected")
            XCTAssertEqual(actions.broadcastPrepares.map(\.sequenceNumber), [1], proposed)
            XCTAssertEqual(backup.counters.droppedForgedRequests, 0)
        }
    }

    /// The PRE-PREPARE overtook the origin's second spread: it waits for it, as for a
    /// request not yet here, and goes on when it comes.
    func testAPrePrepareThatOvertookTheOriginsSecondPayloadWaitsForIt() {
        let backup = PBFTReplica(id: 1, options: options)
        backup.receiveRequest(request("before-the-wipe"))
        backup.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([request("after-the-wipe")])), from: 0)
        let held = backup.takeActions()
        XCTAssertEqual(held.viewChangesStarted.map(\.reason), [], "suspected before the origin's spread could arrive")
        XCTAssertTrue(held.broadcastPrepares.isEmpty)
        backup.receiveRequest(request("after-the-wipe"))
        XCTAssertEqual(backup.takeActions().broadcastPrepares.map(\.sequenceNumber), [1])
    }

    /// A payload the origin never sent stays refused: the batch is never prepared, and
    /// when the request timer runs out the view changes, naming the forgery.
    func testAPayloadTheOriginNeverSentEndsInAViewChangeNamingTheForgery() {
        let backup = PBFTReplica(id: 1, options: options)
        backup.receiveRequest(request("sent"))
        backup.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch([request("forged")])), from: 0)
        var reasons: [PBFTViewChangeReason] = []
        var prepared: [UInt64] = []
        for _ in 0..<(options.requestTimeoutTicks + 2) where reasons.isEmpty {
            backup.tick()
            let actions = backup.takeActions()
            reasons = actions.viewChangesStarted.map(\.reason)
            prepared += actions.broadcastPrepares.map(\.sequenceNumber)
        }
        XCTAssertEqual(prepared, [])
        XCTAssertEqual(reasons, [.forgedRequest])
        XCTAssertEqual(backup.counters.droppedForgedRequests, 1)
    }
}
