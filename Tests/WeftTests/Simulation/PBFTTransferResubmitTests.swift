import Foundation
import XCTest
@testable import Weft

/// L4, after a state transfer: which of this validator's waiting requests go out
/// again under their own key, and which under a fresh stamp. The real PBFTHost
/// over the HostHarness's fake ports.
final class PBFTTransferResubmitTests: XCTestCase {
    /// Two clients wait at vp1 when a transfer completes whose last block's stamps
    /// say vp1's first request is overtaken (a later one of vp1 executed). The first is
    /// spread again under a fresh stamp (it can never be ordered under its key); the
    /// second under its own key, so that the replicas that hold it order it once.
    /// (Before: both got fresh stamps, and under load the others ordered most such
    /// requests twice: whole blocks of duplicate txids after each transfer.)
    func testOnlyOvertakenRequestsAreStampedAnewAfterATransfer() throws {
        let h = try HostHarness(id: 1)
        for txid in ["first", "second"] {
            h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction(txid)), from: PeerID(name: "client-\(txid)"))
        }
        h.host.flush()
        XCTAssertEqual(h.network.spreads.count, 2)
        let (first, second) = (h.network.spreads[0], h.network.spreads[1])
        XCTAssertLessThan(RequestKey(first), RequestKey(second))

        var stamps = RequestStamps()
        stamps.advance(RequestKey(first))
        h.host.replica.requestStateTransfer(sequence: 2, id: "S2", replicas: [0, 2])
        h.host.replica.stateTransferCompleted(sequence: 2, checkpointID: "S2", requestStamps: stamps)
        h.host.resubmitDroppedByTransfer()
        h.host.flush()   // the end of the round: its spreads go out

        let again = Array(h.network.spreads.dropFirst(2))
        XCTAssertEqual(again.count, 2, "\(again.map(RequestKey.init))")
        let secondAgain = try XCTUnwrap(again.first { $0.payload == second.payload })
        let firstAgain = try XCTUnwrap(again.first { $0.payload == first.payload })
        XCTAssertEqual(RequestKey(secondAgain), RequestKey(second), "a request that can still be ordered keeps its key")
        XCTAssertGreaterThan(RequestKey(firstAgain), RequestKey(second), "an overtaken request gets a fresh stamp")
        XCTAssertEqual(h.host.replica.outstandingCount, 2, "both are outstanding here again")
    }

    /// A validator whose disk was wiped (its stamp ceiling gone) and whose clock is behind
    /// stamps after its own latest request the chain executed, once a transfer brought the
    /// chain's stamps: its new requests are not refused as already executed. (Before: seed
    /// 239 of the whole-host sweep — after a wipe its requests were stale everywhere, its
    /// clients answered FAILURE "its request stamp is not after one of this validator
    /// already executed" or, re-stamped below the chain's stamp again, never answered.)
    func testStampsAfterAWipeAreAfterTheChainsStampForThisReplica() throws {
        let h = try HostHarness(id: 1)
        var stamps = RequestStamps()
        stamps.advance(RequestKey(replica: 1, seconds: 1_800_000_100, nanos: 5))   // the harness clock reads 1_800_000_000
        h.host.replica.requestStateTransfer(sequence: 2, id: "S2", replicas: [0, 2])
        h.host.replica.stateTransferCompleted(sequence: 2, checkpointID: "S2", requestStamps: stamps)
        h.host.receive(Message(type: .chainTransaction, payload: SimulatedNetwork.transaction("after-wipe")), from: PeerID(name: "client"))
        h.host.flush()
        XCTAssertFalse(h.events.list.contains { $0.hasPrefix("answer") }, "answered at once: \(h.events.list)")
        let spread = try XCTUnwrap(h.network.spreads.last)
        XCTAssertFalse(stamps.isStale(RequestKey(spread)), "stamped \(RequestKey(spread)), not after the chain's 1@1800000100.5")
        XCTAssertEqual(h.host.replica.outstandingCount, 1)
    }
}
