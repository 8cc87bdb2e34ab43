import Foundation
import Glibc
import Weft
import WeftTools
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


    /// Fabric's bddtest: the primary (vp0) is killed under load; the others
    /// install view 1 and commit again; nothing acknowledged is lost.
    func testPrimaryKilledUnderLoadTheOthersMoveToView1AndLoseNothing() throws {
        let peers = try PBFTClusterTests.cluster()
        let streams = peers.dropFirst().map { TransactionStream($0.process.listen, name: "kill-\($0.process.name)") }
        let rest = Array(peers.dropFirst())
        try waitAll(rest, "commits under load", { $0.allSatisfy { $0 >= 3 } })
        peers[0].process.killHard()
        try waitAll(rest, "view 1 installed", { $0.allSatisfy { $0 >= 1 } }, metric: "weft_pbft_view")
        let heightAtNewView = try rest.map { try $0.process.metric("weft_chain_height") }.max()!
        try waitAll(rest, "commits again in the new view", { $0.allSatisfy { $0 > heightAtNewView + 2 } })
        let acked = streams.flatMap { $0.stop() }
        try converge(rest)
        for peer in rest { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(rest.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked, in: rest[0].process.dataDir)
    }

    /// The primary frozen (SIGSTOP: its sockets stay open, nothing answers):
    /// the others install a new view; thawed, it follows that view and
    /// catches up instead of disturbing it.
    func testFrozenPrimaryIsReplacedAndFollowsTheNewViewWhenThawed() throws {
        let peers = try PBFTClusterTests.cluster()
        let rest = Array(peers.dropFirst())
        let stream = TransactionStream(peers[1].process.listen, name: "freeze")
        try waitAll(rest, "commits", { $0.allSatisfy { $0 >= 2 } })
        kill(peers[0].process.process.processIdentifier, SIGSTOP)
        try waitAll(rest, "a new view without vp0", { $0.allSatisfy { $0 >= 1 } }, metric: "weft_pbft_view")
        let frozenAt = try rest.map { try $0.process.metric("weft_chain_height") }.max()!
        try waitAll(rest, "commits while vp0 is frozen", { $0.allSatisfy { $0 > frozenAt + 2 } })
        kill(peers[0].process.process.processIdentifier, SIGCONT)
        let view = try rest.map { try $0.process.metric("weft_pbft_view") }.max()!
        try waitAll([peers[0]], "vp0 follows view \(view)", { $0[0] >= view }, metric: "weft_pbft_view")
        let acked = stream.stop()
        try converge(peers)
        XCTAssertEqual(try rest.map { try $0.process.metric("weft_pbft_view") }.max()!, view, "vp0 did not start another view change")
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked, in: peers[0].process.dataDir)
    }

    /// A backup frozen while more than L sequence numbers commit catches up
    /// by state transfer once thawed: with traffic going on, and (Fabric
    /// #1454) with none after it.
    func testFrozenBackupCatchesUpByStateTransferWithAndWithoutTraffic() throws {
        let peers = try PBFTClusterTests.cluster()
        let vp3 = peers[3], others = Array(peers[0..<3])
        let window = 8   // K 2 x logmultiplier 4
        var acked: [String] = []
        for round in ["traffic", "quiet"] {
            let transfersBefore = try vp3.process.metric("weft_pbft_state_transfers_total")
            kill(vp3.process.process.processIdentifier, SIGSTOP)
            let stream = TransactionStream(peers[0].process.listen, name: "frozen-\(round)")
            let start = try others.map { try $0.process.metric("weft_pbft_sequence_executed") }.min()!
            try waitAll(others, "more than L sequence numbers commit", { $0.allSatisfy { $0 > start + window + 2 } },
                        metric: "weft_pbft_sequence_executed")
            if round == "quiet" { acked += stream.stop() }
            kill(vp3.process.process.processIdentifier, SIGCONT)
            try waitAll([vp3], "vp3 starts a state transfer (\(round))", { $0[0] > transfersBefore }, metric: "weft_pbft_state_transfers_total")
            if round == "traffic" {
                try waitAll([vp3], "vp3 executes new batches after its transfer", { $0[0] > start + window + 2 },
                            metric: "weft_pbft_sequence_executed")
                acked += stream.stop()
            }
            try converge(peers)
        }
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked, in: vp3.process.dataDir)
    }

    /// Every replica killed (SIGKILL) and restarted with the same data
    /// directory in turn, under load: the ledgers end identical and every
    /// acknowledged transaction is in them once.
    func testEveryReplicaRestartedInTurnUnderLoad() throws {
        var peers = try PBFTClusterTests.cluster()
        var acked: [String] = []
        for i in 0..<4 {
            let target = peers[(i + 1) % 4]
            let stream = TransactionStream(target.process.listen, name: "restart-\(i)")
            let live = peers.enumerated().filter { $0.offset != i }.map(\.element)
            let before = try live.map { try $0.process.metric("weft_chain_height") }.max()!
            let old = peers[i].process
            old.killHard()
            try waitAll(live, "commits with vp\(i) down", { $0.allSatisfy { $0 > before + 2 } })
            peers[i] = try PBFTPeer.start("vp\(i)", dataDir: old.dataDir, listenPort: old.listen.port,
                                          settings: i == 0 ? [:] : ["peer.discovery.rootnode": peers[0].process.listen.description])
            let height = try live.map { try $0.process.metric("weft_chain_height") }.max()!
            try waitAll([peers[i]], "vp\(i) back at the others' height", { $0[0] >= height })
            acked += stream.stop()
        }
        try converge(peers)
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked, in: peers[0].process.dataDir)
    }

    /// A replica restarted after the others went quiet (Fabric #1454 at
    /// start): nothing new commits, yet it learns where the others stand
    /// when it reconnects and catches up by state transfer.
    func testARestartedReplicaCatchesUpOnAnIdleNetwork() throws {
        let peers = try PBFTClusterTests.cluster()
        let vp3 = peers[3].process
        vp3.killHard()
        let outcome = try PBFTClient(peers[0].process.listen, name: "client-idle").submit((0..<300).map { "idle-\($0)" }, timeout: 30)
        XCTAssertEqual(outcome.succeeded.count, 300)
        let live = Array(peers[0..<3])
        try converge(live, above: 3)
        let target = try live[0].process.metric("weft_chain_height")
        let restarted = try PBFTPeer.start("vp3", dataDir: vp3.dataDir, listenPort: vp3.listen.port,
                                           settings: ["peer.discovery.rootnode": peers[0].process.listen.description])
        try waitAll([restarted], "vp3 catches up to height \(target) with no traffic", { $0[0] == target })
        XCTAssertGreaterThan(try restarted.process.metric("weft_pbft_state_transfers_total"), 0)
        for peer in live + [restarted] { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical((live + [restarted]).map(\.process.dataDir))
    }

    /// Issue 21, L5: the primary vp0 is killed, the others move to view 1, vp0
    /// restarts (and catches up to an idle checkpoint); then vp2 freezes. vp0 must
    /// take part in view 1 at once: vp1, vp3 and vp0 commit 300 more.
    func testARestartedPrimaryTakesPartInTheCurrentViewAtOnce() throws {
        let fast = ["pbft.general.batchsize": "10", "pbft.general.timeout.batch": "200ms"]
        let peers = try PBFTClusterTests.cluster(["vp0": fast, "vp1": fast, "vp2": fast, "vp3": fast])
        XCTAssertEqual(try PBFTClient(peers[1].process.listen, name: "client-l5a").submit((0..<400).map { "l5a-\($0)" }, timeout: 60).succeeded.count, 400)
        let vp0 = peers[0].process
        vp0.killHard()
        let rest = Array(peers.dropFirst())
        XCTAssertEqual(try PBFTClient(peers[1].process.listen, name: "client-l5b").submit((0..<300).map { "l5b-\($0)" }, timeout: 60).succeeded.count, 300)
        try waitAll(rest, "view 1", { $0.allSatisfy { $0 == 1 } }, metric: "weft_pbft_view")
        let restarted = try PBFTPeer.start("vp0", dataDir: vp0.dataDir, listenPort: vp0.listen.port,
                                           settings: fast.merging(["peer.discovery.rootnode": peers[1].process.listen.description]) { $1 })
        try PBFTClusterTests.waitForMesh([restarted] + rest)
        let height = try rest.map { try $0.process.metric("weft_chain_height") }.max()!
        try waitAll([restarted], "vp0 catches up to height \(height)", { $0[0] >= height })
        // It learns view 1's NEW-VIEW and installs it (before any other view change).
        try waitAll([restarted], "vp0 installs view 1", { $0[0] >= 1 }, metric: "weft_pbft_new_views_installed_total")
        // The view gauge is refreshed every 10 ticks, the counter at once: wait for the gauge.
        try waitAll([restarted], "vp0 in view 1", { $0[0] == 1 }, metric: "weft_pbft_view")
        kill(peers[2].process.process.processIdentifier, SIGSTOP)
        defer { kill(peers[2].process.process.processIdentifier, SIGCONT) }
        let outcome = try PBFTClient(peers[3].process.listen, name: "client-l5c").submit((0..<300).map { "l5c-\($0)" }, timeout: 60)
        let live = [restarted, peers[1], peers[3]]
        XCTAssertEqual(outcome.succeeded.count, 300, PBFTPeer.describe(live))
        try converge(live)
        kill(peers[2].process.process.processIdentifier, SIGCONT)
        for peer in live + [peers[2]] { _ = try peer.process.terminate() }
        try PBFTLedgers.assertIdentical(live.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(outcome.succeeded, in: peers[1].process.dataDir)
    }

    /// A replica that cannot record its PBFT state stops taking part (it must
    /// not send what it could not record), says why on /healthz, and the
    /// other three go on committing.
    func testAReplicaThatCannotRecordItsStateStopsAndSaysWhy() throws {
        let peers = try PBFTClusterTests.cluster()
        let vp3 = peers[3]
        let records = vp3.process.dataDir + "/pbft"
        try FileManager.default.removeItem(atPath: records)
        XCTAssertTrue(FileManager.default.createFile(atPath: records, contents: Data("not a directory".utf8)))
        let outcome = try PBFTClient(peers[0].process.listen, name: "client-rec").submit((0..<200).map { "rec-\($0)" }, timeout: 30)
        XCTAssertEqual(outcome.succeeded.count, 200, "the other three are a quorum")
        try eventually(timeout: 10, "vp3's /healthz names the failed check") {
            let (status, body) = try HTTPGet.request(vp3.process.ops, path: "/healthz")
            return status == 503 && body.contains("cannot record its state")
        }
        try vp3.process.waitForLog(containing: "this replica stops taking part")
        for peer in peers { _ = try peer.process.terminate() }
        try PBFTLedgers.assertIdentical(peers[0..<3].map(\.process.dataDir))
    }

    /// A primary that equivocates (a different batch to each backup for the
    /// same sequence number) is voted out; the honest replicas commit the
    /// clients' transactions, identically.
    func testEquivocatingPrimaryIsVotedOut() throws {
        let peers = try PBFTClusterTests.cluster(["vp0": ["pbft.test.byzantine": "equivocate"]])
        let honest = Array(peers.dropFirst())
        let outcome = try PBFTClient(honest[0].process.listen, name: "client-eq").submit((0..<200).map { "eq-\($0)" }, timeout: 60)
        XCTAssertEqual(outcome.succeeded.count, 200, PBFTPeer.describe(peers))
        try waitAll(honest, "view 1 or later", { $0.allSatisfy { $0 >= 1 } }, metric: "weft_pbft_view")
        try converge(honest)
        for peer in peers { _ = try peer.process.terminate() }
        try PBFTLedgers.assertIdentical(honest.map(\.process.dataDir))
        let chain = try PBFTLedgers.txids(honest[0].process.dataDir)
        XCTAssertFalse(chain.contains { $0.hasPrefix("equivocation-") }, "no batch only the liar proposed")
        try PBFTLedgers.assertEachOnce(outcome.succeeded, in: honest[0].process.dataDir)
    }
}

/// Waiting on every peer's metrics, for the PBFT process tests.
extension XCTestCase {
    /// Waits until every peer's `metric` satisfies `condition`.
    func waitAll(_ peers: [PBFTPeer], _ what: String, timeout: Double = 30, _ condition: ([Int]) -> Bool,
                         metric: String = "weft_chain_height") throws {
        do {
            try eventually(timeout: timeout, what) { condition(try peers.map { try $0.process.metric(metric) }) }
        } catch {
            throw TestFailure("\(error)\n\(PBFTPeer.describe(peers))")
        }
    }

    /// Heights equal and above `floor`.
    func converge(_ peers: [PBFTPeer], above floor: Int = 0, timeout: Double = 30) throws {
        try waitAll(peers, "the same height, above \(floor)", timeout: timeout) { Set($0).count == 1 && $0[0] > floor }
    }
}
