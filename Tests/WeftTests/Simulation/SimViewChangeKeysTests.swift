import Foundation
import XCTest
@testable import Weft

/// The simulator's VIEW-CHANGE keys under the adapter's own sealing and checking
/// (`PBFTSignatures`): what a seed runs instead of TLS certificates.
final class SimViewChangeKeysTests: XCTestCase {
    private let secrets = SimViewChangeKeys.secrets(seed: 7, replicas: 4)

    private func signatures(_ replica: Int, secrets: [[UInt8]]? = nil) -> PBFTSignatures {
        PBFTSignatures(keys: SimViewChangeKeys(secrets: secrets ?? self.secrets, selfReplica: replica), selfReplica: UInt64(replica))
    }

    private func viewChange(from replica: UInt64, view: UInt64 = 3) -> Pbft_message {
        var vc = Pbft_view_change()
        vc.view = view
        vc.h = 10
        vc.replicaID = replica
        var c = Pbft_view_change.C()
        c.sequenceNumber = 10
        c.id = "checkpoint-10"
        vc.cset = [c]
        var m = Pbft_message()
        m.viewChange = vc
        return m
    }

    func testASealedViewChangeIsCheckedByEveryOtherReplica() {
        let sealed = signatures(1).seal(viewChange(from: 1))
        XCTAssertFalse(sealed.viewChange.signature.isEmpty)
        XCTAssertTrue(sealed.viewChange.certificate.isEmpty, "the simulator's keys carry no certificate")
        for checker in [0, 2, 3] {
            let signatures = signatures(checker)
            XCTAssertNil(signatures.check(sealed, peers: { [] }))
            XCTAssertEqual(signatures.verified, 1)
        }
    }

    func testUnsignedForgedTamperedAndOtherSeedsViewChangesAreRefused() {
        let vp2 = signatures(2)
        XCTAssertEqual(vp2.check(viewChange(from: 1), peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 1: unsigned")

        var forged = viewChange(from: 1)   // signed by vp3 with its own key, claiming vp1
        forged.viewChange.signature = Data(signatures(3).sign(PBFTSignatures.signedBytes(forged.viewChange))!)
        XCTAssertEqual(vp2.check(forged, peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 1: bad signature")

        var tampered = signatures(1).seal(viewChange(from: 1))
        tampered.viewChange.h = 20
        XCTAssertEqual(vp2.check(tampered, peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 1: bad signature")

        let otherSeed = signatures(1, secrets: SimViewChangeKeys.secrets(seed: 8, replicas: 4)).seal(viewChange(from: 1))
        XCTAssertEqual(vp2.check(otherSeed, peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 1: bad signature")

        XCTAssertEqual(vp2.check(viewChange(from: 9), peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 9: unsigned")
        var stranger = viewChange(from: 9)
        stranger.viewChange.signature = Data([1])
        XCTAssertEqual(vp2.check(stranger, peers: { [] }), "VIEW-CHANGE for view 3 claiming replica 9: no such replica")
        XCTAssertEqual(vp2.verified, 0)
    }

    func testANewViewIsCheckedByEveryViewChangeItRelays() {
        let vset = [0, 1, 3].map { signatures($0).seal(viewChange(from: UInt64($0))).viewChange }
        var nv = Pbft_new_view()
        nv.view = 3
        nv.replicaID = 3
        nv.vset = vset
        var m = Pbft_message()
        m.newView = nv
        let vp2 = signatures(2)
        XCTAssertNil(vp2.check(m, peers: { [] }))
        XCTAssertEqual(vp2.verified, 3)

        nv.vset[1].cset = []   // the primary drops vp1's checkpoint from what it relays
        m.newView = nv
        XCTAssertEqual(vp2.check(m, peers: { [] }), "NEW-VIEW for view 3 relays a VIEW-CHANGE claiming replica 1: bad signature")
    }
}
