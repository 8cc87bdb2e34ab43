import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// PBFT through real `weft node start` processes: four validators vp0..vp3
/// (N = 4, f = 1, quorum 3) on 127.0.0.1, clients on real sockets, ledgers
/// read back from their files.
final class PBFTClusterTests: XCTestCase {
    /// Small batches and checkpoints, so a few hundred transactions cross many of both.
    static let settings = ["pbft.general.batchsize": "50", "pbft.general.timeout.batch": "100ms", "pbft.general.K": "2",
                           "pbft.general.logmultiplier": "4"]

    /// Starts vp0..vp3 (vp0 the root node) and waits for the full mesh.
    static func cluster(_ extra: [String: [String: String]] = [:]) throws -> [PBFTPeer] {
        let first = try PBFTPeer.start("vp0", settings: extra["vp0"] ?? [:])
        var peers = [first]
        for i in 1..<4 {
            var settings = extra["vp\(i)"] ?? [:]
            settings["peer.discovery.rootnode"] = first.process.listen.description
            peers.append(try PBFTPeer.start("vp\(i)", settings: settings))
        }
        try waitForMesh(peers)
        return peers
    }

    static func waitForMesh(_ peers: [PBFTPeer]) throws {
        try eventually(timeout: 20, "full mesh of \(peers.count)") {
            try peers.allSatisfy { try $0.process.peerNames().filter { $0.hasPrefix("vp") }.count == peers.count - 1 }
        }
    }

    func testFourValidatorsCommitFiveThousandTransactionsIntoIdenticalLedgers() throws {
        try Self.commitFiveThousandIntoIdenticalLedgers(try Self.cluster())
    }

    /// Four clients, one per validator, 1,250 transactions each at once: every one answered
    /// SUCCESS, the ledgers identical, each transaction in them once.
    static func commitFiveThousandIntoIdenticalLedgers(_ peers: [PBFTPeer], tls: TestCertificates? = nil) throws {
        let perPeer = 1250
        let results = ConcurrentResults()
        DispatchQueue.concurrentPerform(iterations: peers.count) { i in
            let txids = (0..<perPeer).map { "pbft-\(i)-\($0)" }
            results.record(i, Result {
                try PBFTClient(peers[i].process.listen, name: "client-\(i).load.weft", tls: try tls?.clientContext()).submit(txids, timeout: 60)
            })
        }
        var acked: [String] = []
        for i in peers.indices {
            let outcome = try results.get(i)
            XCTAssertEqual(outcome.failures, [:], "vp\(i): FAILURE answers")
            XCTAssertEqual(outcome.succeeded.count, perPeer, "vp\(i): every transaction acknowledged; \(PBFTPeer.describe(peers))")
            acked += outcome.succeeded
        }
        try eventually(timeout: 20, "the four ledgers reach the same height") {
            let heights = try peers.map { try $0.process.metric("weft_chain_height") }
            return Set(heights).count == 1 && heights[0] > 0
        }
        for (i, peer) in peers.enumerated() {   // the records writer's counters: its fdatasyncs and the bytes they made durable
            let syncs = try peer.process.metric("weft_pbft_record_syncs_total"), bytes = try peer.process.metric("weft_pbft_record_bytes_total")
            XCTAssertGreaterThan(syncs, 0, "vp\(i)")
            XCTAssertGreaterThan(bytes, 5000 * 16, "vp\(i): every batch is recorded, with its requests")
        }
        let refused = try peers.map { try $0.process.metric("weft_pbft_messages_dropped_total{cause=\"forged_request\"}") }
        XCTAssertEqual(refused, [0, 0, 0, 0], "a correct primary's batch refused as forged")
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0, peer.process.log.suffix(2000).description) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked, in: peers[0].process.dataDir)
        let verify = try peers.map { try runWeft(["ledger", "verify", "--path", $0.process.dataDir]) }
        // "OK <file>: height H, T transactions, last hash X": the same after the file name.
        let summaries = verify.map { $0.output.components(separatedBy: ": ").dropFirst().joined(separator: ": ") }
        XCTAssertTrue(verify.allSatisfy { $0.status == 0 }, "\(verify)")
        XCTAssertEqual(Set(summaries).count, 1, "weft ledger verify: the same height and last hash on every replica: \(summaries)")
    }

    /// A backup that lies (PREPAREs and COMMITs with a digest of its own, or
    /// prepares for batches that do not exist) moves nothing: the honest three
    /// commit exactly the clients' transactions, identically.
    func testALyingReplicaCannotMakeTheHonestOnesCommitSomethingElse() throws {
        for mode in ["wrong-digest", "phantom-prepare"] {
            let peers = try Self.cluster(["vp3": ["pbft.test.byzantine": mode]])
            let honest = Array(peers[0..<3])
            var acked: [String] = []
            for (i, peer) in honest.enumerated() {
                let txids = (0..<150).map { "\(mode)-\(i)-\($0)" }
                let outcome = try PBFTClient(peer.process.listen, name: "client-\(i)").submit(txids, timeout: 30)
                XCTAssertEqual(outcome.succeeded.count, txids.count, "\(mode): vp\(i) acknowledged all")
                acked += outcome.succeeded
            }
            try eventually(timeout: 20, "\(mode): the honest ledgers reach the same height") {
                Set(try honest.map { try $0.process.metric("weft_chain_height") }).count == 1
            }
            for peer in peers { _ = try peer.process.terminate() }
            try PBFTLedgers.assertIdentical(honest.map(\.process.dataDir))
            let chain = try PBFTLedgers.txids(honest[0].process.dataDir)
            XCTAssertEqual(chain.sorted(), acked.sorted(), "\(mode): the chain holds exactly the clients' transactions")
        }
    }

    /// vp1 loses the broadcast of every third request it wraps for its client
    /// (`lose-spread`): only vp1 holds those, and a later request of vp1's
    /// executes first, after which every replica refuses the lost one's
    /// timestamp. vp1 broadcasts each again under a new timestamp: every
    /// transaction is acknowledged and ordered once, no view change needed.
    func testARequestWhoseBroadcastWasLostIsStampedAnewAndOrderedOnce() throws {
        let peers = try Self.cluster(["vp1": ["pbft.test.byzantine": "lose-spread"]])
        let txids = (0..<60).map { "lost-spread-\($0)" }
        let outcome = try PBFTClient(peers[1].process.listen, name: "client-lossy").submit(txids, timeout: 30)
        XCTAssertEqual(outcome.succeeded.sorted(), txids.sorted(), "failures: \(outcome.failures)")
        XCTAssertGreaterThan(try peers[1].process.metric("weft_pbft_messages_dropped_total{cause=\"overtaken_request\"}"), 0,
                             "some lost request was overtaken (else this test shows nothing)")
        try eventually(timeout: 20, "the ledgers reach the same height") {
            Set(try peers.map { try $0.process.metric("weft_chain_height") }).count == 1
        }
        XCTAssertEqual(try peers.map { try $0.process.metric("weft_pbft_view_changes_started_total") }, [0, 0, 0, 0])
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        XCTAssertEqual(try PBFTLedgers.txids(peers[0].process.dataDir).sorted(), txids.sorted(), "each transaction once")
    }

    /// A PRE-PREPARE carries its batch, so batches are cut by bytes too and
    /// stay under every replica's frame limit; a transaction too large for
    /// any batch is answered FAILURE naming the limit, not ordered.
    func testBatchesStayUnderTheFrameLimitAndAnOversizedTransactionIsRefused() throws {
        let limit = ["peer.limits.maxFrameSize": "200000"]
        let peers = try Self.cluster(["vp0": limit, "vp1": limit, "vp2": limit, "vp3": limit])
        let client = try PBFTClient(peers[1].process.listen, name: "client-big")
        var big = Protos_Transaction()
        big.txid = "too-big"
        big.payload = Data(count: 100_000)
        try client.write(WireClient.frame(type: .chainTransaction, payload: try big.serializedBytes()))
        let refused = try client.collect(expected: 1, timeout: 10)
        XCTAssertEqual(refused.succeeded, [])
        XCTAssertTrue(refused.failures["too-big"]?.contains("over the limit") == true, "\(refused.failures)")

        // Ten of 40 kB: together far over one frame, so they must go in several batches.
        let txids = (0..<10).map { "large-\($0)" }
        for txid in txids {
            var tx = Protos_Transaction()
            tx.txid = txid
            tx.payload = Data(repeating: 7, count: 40_000)
            try client.write(WireClient.frame(type: .chainTransaction, payload: try tx.serializedBytes()))
        }
        let outcome = try client.collect(expected: txids.count, timeout: 30)
        XCTAssertEqual(Set(outcome.succeeded), Set(txids), "\(outcome.failures) \(PBFTPeer.describe(peers))")
        for peer in peers {
            XCTAssertEqual(try peer.process.metric("weft_connections_closed_total{cause=\"frame_too_large\"}"), 0)
        }
        try eventually(timeout: 20, "the same height everywhere") {
            Set(try peers.map { try $0.process.metric("weft_chain_height") }).count == 1
        }
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        XCTAssertGreaterThan(try BlockFile.scan(path: peers[0].process.dataDir + "/ledger/blocks").height, 2, "split into several blocks")
    }

    /// The same txid sent through two validators is one transaction in the
    /// chain: one client gets SUCCESS, the other FAILURE `duplicate txid`;
    /// a payload that is no transaction gets FAILURE `malformed transaction`.
    func testADuplicateTxidIsOrderedOnceAndAMalformedOneIsRefused() throws {
        let peers = try Self.cluster()
        let first = try PBFTClient(peers[1].process.listen, name: "client-dup-1")
        let second = try PBFTClient(peers[2].process.listen, name: "client-dup-2")
        let txids = (0..<50).map { "dup-\($0)" }
        try first.send(txids)
        try second.send(txids)
        let a = try first.collect(expected: txids.count, timeout: 30)
        let b = try second.collect(expected: txids.count, timeout: 30)
        XCTAssertEqual(a.succeeded.count + b.succeeded.count, txids.count, "each txid acknowledged once: \(a.failures) \(b.failures)")
        XCTAssertEqual(Set(a.succeeded).union(b.succeeded), Set(txids))
        let failures = Array(a.failures.values) + Array(b.failures.values)
        XCTAssertEqual(failures.count, txids.count)
        XCTAssertTrue(failures.allSatisfy { $0.contains("duplicate txid") }, "\(failures.prefix(3))")

        try first.write(WireClient.frame(type: .chainTransaction, payload: [0xff, 0xff, 0xff]))
        let refused = try first.collect(expected: 1, timeout: 10)
        XCTAssertEqual(refused.failures.values.first, "malformed transaction")

        try eventually(timeout: 20, "the same height everywhere") {
            Set(try peers.map { try $0.process.metric("weft_chain_height") }).count == 1
        }
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(txids, in: peers[0].process.dataDir)
    }

    func testStartRefusesABadReplicaSetting() throws {
        let cases: [([String: String], String, String)] = [
            (["pbft.general.N": "3", "pbft.general.f": "1"], "vp0", "pbft.general.N"),
            ([:], "vp7", "peer.id"),
            (["pbft.general.validators": "a,b,c"], "a", "pbft.general.validators"),
        ]
        for (settings, name, key) in cases {
            var args = ["node", "start", "--peer-id", name, "--listen", "127.0.0.1:0", "--ops-listen", "",
                        "--data-dir", TestScratch.path("weft-pbft-refuse"), "--consensus", "pbft"]
            for (k, v) in settings { args += ["--set", "\(k)=\(v)"] }
            let (status, output) = try runWeft(args)
            XCTAssertEqual(status, 64, output)
            XCTAssertTrue(output.contains("config key '\(key)'"), output)
        }
    }
}
