import Foundation
import Glibc
import Weft
import XCTest

/// Issue 21's open question on signed VIEW-CHANGEs, through real processes over
/// TLS: a replica checks a NEW-VIEW whatever links it has seen since it started.
final class PBFTRelayedViewChangeTests: XCTestCase {
    /// N = 4 over TLS. The primary vp0 is killed and vp1, vp2, vp3 install view 1:
    /// vp1's NEW-VIEW relays exactly their three VIEW-CHANGEs (vp0's could not be
    /// among them), vp3's one of them. vp3 is killed, then vp0 restarts: it never
    /// has a link to vp3, so only the certificate vp3's VIEW-CHANGE carries can
    /// prove it. vp0 must install view 1 from vp1's NEW-VIEW (sent on reconnect)
    /// and commit with vp1 and vp2, no view change after view 1.
    /// (Before the VIEW-CHANGE carried its certificate, vp0 dropped that NEW-VIEW
    /// as forged, "no certificate of vp3 seen yet", and never installed view 1:
    /// seen failing here at "vp0 installs view 1".)
    func testARestartedReplicaInstallsANewViewRelayingAReplicaItNeverSaw() throws {
        let certs = try TestCertificates(names: ["vp0", "vp1", "vp2", "vp3", "load"])
        var settings: [String: [String: String]] = [:]
        for i in 0..<4 { settings["vp\(i)"] = certs.settings(for: "vp\(i)") }
        let peers = try PBFTClusterTests.cluster(settings)
        let vp0 = peers[0].process
        vp0.killHard()
        let before = try PBFTClient(peers[1].process.listen, name: "relay-a.load.weft", tls: try certs.clientContext())
            .submit((0..<50).map { "relay-a-\($0)" }, timeout: 60)
        XCTAssertEqual(before.succeeded.count, 50, PBFTPeer.describe(Array(peers.dropFirst())))
        try waitAll(Array(peers.dropFirst()), "view 1 installed by vp1, vp2, vp3", { $0.allSatisfy { $0 == 1 } }, metric: "weft_pbft_view")

        peers[3].process.killHard()
        let restarted = try PBFTPeer.start("vp0", dataDir: vp0.dataDir, listenPort: vp0.listen.port,
                                           settings: certs.settings(for: "vp0", rootNode: peers[1].process.listen))
        let live = [restarted, peers[1], peers[2]]
        try PBFTClusterTests.waitForMesh(live)
        try waitAll([restarted], "vp0 installs view 1", { $0[0] >= 1 }, metric: "weft_pbft_new_views_installed_total")
        try waitAll([restarted], "vp0 in view 1", { $0[0] == 1 }, metric: "weft_pbft_view")
        XCTAssertGreaterThanOrEqual(try restarted.process.metric("weft_pbft_view_change_signatures_verified_total"), 3,
                                    "vp1's, vp2's and vp3's signatures in the NEW-VIEW")

        let after = try PBFTClient(peers[2].process.listen, name: "relay-b.load.weft", tls: try certs.clientContext())
            .submit((0..<100).map { "relay-b-\($0)" }, timeout: 60)
        XCTAssertEqual(after.succeeded.count, 100, PBFTPeer.describe(live))
        try converge(live)
        XCTAssertEqual(try live.map { try $0.process.metric("weft_pbft_view") }, [1, 1, 1], "no view change after view 1")
        XCTAssertEqual(try restarted.process.metric("weft_pbft_messages_dropped_total{cause=\"forged\"}"), 0)
        XCTAssertFalse(restarted.process.log.contains("dropped a forged message"), restarted.process.log.suffix(2000).description)
        for peer in live { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(live.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(before.succeeded + after.succeeded, in: peers[1].process.dataDir)
    }
}
