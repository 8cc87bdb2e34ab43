import Foundation
import Glibc
import Weft
import XCTest

/// PBFT through real processes when replicas go away and come back.
final class PBFTRecoveryTests: XCTestCase {
    /// One backup down: the other three still commit. Two down: nothing is
    /// acknowledged. One of them back: the waiting transactions commit.
    func testCommitsNeedAQuorumAndResumeWhenOneComesBack() throws {
        let peers = try PBFTClusterTests.cluster()
        let client = try PBFTClient(peers[0].process.listen, name: "client-q")
        XCTAssertEqual(try client.submit((0..<100).map { "warm-\($0)" }, timeout: 30).succeeded.count, 100)

        peers[3].process.killHard()
        let withThree = try client.submit((0..<100).map { "three-\($0)" }, timeout: 30)
        XCTAssertEqual(withThree.succeeded.count, 100, "three of four replicas are a quorum")

        let vp2 = peers[2].process
        vp2.killHard()
        let proposedBefore = try peers[0].process.metric("weft_pbft_batches_proposed_total")
        try client.send((0..<20).map { "stuck-\($0)" })
        try eventually(timeout: 10, "vp0 proposed a batch with no quorum to commit it") {
            try peers[0].process.metric("weft_pbft_batches_proposed_total") > proposedBefore
        }
        // Nothing may come back while only two replicas are alive; give it
        // several batch timeouts to prove it.
        XCTAssertEqual(try client.collect(expected: 20, timeout: 1.5).succeeded, [], "no SUCCESS without a quorum")
        XCTAssertEqual(try peers[0].process.metric("weft_chain_height"), try peers[1].process.metric("weft_chain_height"))

        let restarted = try PBFTPeer.start("vp2", dataDir: vp2.dataDir, listenPort: vp2.listen.port,
                                           settings: ["peer.discovery.rootnode": peers[0].process.listen.description])
        let resumed = try client.collect(expected: 20, timeout: 30)
        XCTAssertEqual(Set(resumed.succeeded), Set((0..<20).map { "stuck-\($0)" }), "commits resume with vp2 back: \(restarted.process.log.suffix(1500))")
        let live = [peers[0], peers[1], restarted]
        try eventually(timeout: 20, "the live ledgers reach the same height") {
            Set(try live.map { try $0.process.metric("weft_chain_height") }).count == 1
        }
        for peer in live { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(live.map(\.process.dataDir))
    }

}
