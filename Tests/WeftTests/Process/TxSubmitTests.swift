import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// `weft tx submit` as a user runs it: a real binary against real peers.
final class TxSubmitTests: XCTestCase {
    static let noopsSettings = ["peer.validator.consensus.noops.blockTimeout": "50ms"]

    func testCommitsOnANoopsPeerWithAndWithoutWaiting() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.noopsSettings, consensus: "noops")
        let waited = try runWeft(["tx", "submit", "--target", peer.listen.description, "--txid", "tx-one", "--payload", "hello", "--wait"])
        XCTAssertEqual(waited.status, 0, waited.output)
        XCTAssertEqual(waited.output.trimmingCharacters(in: .whitespacesAndNewlines), "tx-one committed")

        // No --txid: a UUID, printed alone; the peer has read it when the command returns.
        let handed = try runWeft(["tx", "submit", "--target", peer.listen.description, "--payload", "later"])
        XCTAssertEqual(handed.status, 0, handed.output)
        let generated = handed.output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(UUID(uuidString: generated), "a UUID txid: \(handed.output)")

        // The payload from standard input, the answer as JSON.
        let piped = try runProcess(PeerProcess.binary, ["tx", "submit", "--target", peer.listen.description, "--txid", "tx-stdin",
                                                        "--payload-file", "-", "--wait", "--json"], stdin: "from stdin")
        XCTAssertEqual(piped.status, 0, piped.output)
        let answer = try JSONSerialization.jsonObject(with: Data(piped.output.utf8)) as? [String: String]
        XCTAssertEqual(answer, ["txid": "tx-stdin", "status": "committed"])

        try eventually(timeout: 10, "the unwaited transaction is in a block") {
            try Self.payloads(peer.dataDir)[generated] == "later"
        }
        let payloads = try Self.payloads(peer.dataDir)
        XCTAssertEqual(payloads["tx-one"], "hello")
        XCTAssertEqual(payloads["tx-stdin"], "from stdin")
        XCTAssertEqual(try peer.terminate(), 0)
    }

    func testUsageErrorsExitTwoAndSayWhatIsWrong() throws {
        let missingFile = "/nonexistent/payload-\(UUID())"
        let cases: [([String], String)] = [
            (["tx", "submit"], "--target"),
            (["tx", "submit", "--target", "nohost"], "'nohost' is not host:port"),
            (["tx", "submit", "--target", "127.0.0.1:1", "--payload-file", missingFile], missingFile),
            (["tx", "submit", "--target", "127.0.0.1:1", "--payload", "a", "--payload-file", "/etc/hostname"], "not both"),
            (["tx", "submit", "--target", "127.0.0.1:1", "--timeout", "soon"], "--timeout"),
            (["tx", "submit", "--target", "127.0.0.1:1", "--tls-cert", "/x.pem"], "all three"),
            (["tx", "submit", "--target", "127.0.0.1:1", "--no-such-flag"], "no-such-flag"),
        ]
        for (args, expected) in cases {
            let run = try runWeft(args)
            XCTAssertEqual(run.status, 2, "\(args): \(run.output)")
            XCTAssertTrue(run.output.contains(expected), "\(args) should say \(expected): \(run.output)")
        }
    }

    func testAPeerThatNeverAnswersExitsThreeAndNoPeerExitsOne() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.noopsSettings, consensus: "noops")
        kill(peer.process.processIdentifier, SIGSTOP)
        defer { kill(peer.process.processIdentifier, SIGCONT) }
        // The kernel still completes the TCP handshake (the backlog); nothing answers the hello.
        let stalled = try runWeft(["tx", "submit", "--target", peer.listen.description, "--payload", "x", "--wait", "--timeout", "1s"])
        XCTAssertEqual(stalled.status, 3, stalled.output)
        XCTAssertTrue(stalled.output.contains("timeout"), stalled.output)
        kill(peer.process.processIdentifier, SIGCONT)
        XCTAssertEqual(try peer.terminate(), 0)

        // Nothing listens there any more: refused at once, exit 1.
        let gone = try runWeft(["tx", "submit", "--target", peer.listen.description, "--payload", "x", "--wait"])
        XCTAssertEqual(gone.status, 1, gone.output)
        XCTAssertTrue(gone.output.contains("unreachable"), gone.output)
    }

    /// A TLS peer: the client certificate (`*.load.weft`) and --id-domain get
    /// the transaction in; without a certificate the peer cannot be used.
    func testSubmitsOverTLSWithAClientCertificate() throws {
        let certs = try TestCertificates(names: ["tls-tx"])
        let peer = try PeerProcess(name: "tls-tx", settings: certs.settings(for: "tls-tx").merging(Self.noopsSettings) { $1 },
                                   consensus: "noops")
        let secured = try runWeft(["tx", "submit", "--target", peer.listen.description, "--txid", "over-tls", "--payload", "sealed",
                                   "--wait", "--id-domain", "load.weft"] + certs.loadFlags)
        XCTAssertEqual(secured.status, 0, secured.output)
        XCTAssertTrue(secured.output.contains("over-tls committed"), secured.output)
        let plain = try runWeft(["tx", "submit", "--target", peer.listen.description, "--payload", "x", "--wait", "--timeout", "5s"])
        XCTAssertNotEqual(plain.status, 0, plain.output)
        let wrongName = try runWeft(["tx", "submit", "--target", peer.listen.description, "--payload", "x", "--wait"] + certs.loadFlags)
        XCTAssertEqual(wrongName.status, 2, "the certificate does not carry tx-<random>: \(wrongName.output)")
        XCTAssertTrue(wrongName.output.contains("--tls-cert"), wrongName.output)
        XCTAssertEqual(try Self.payloads(peer.dataDir)["over-tls"], "sealed")
        // Its REST API reads, but does not submit: it holds no client certificate.
        let rest = try XCTUnwrap(peer.rest)
        XCTAssertEqual(try HTTPGet.request(rest, path: "/transactions/over-tls").0, 200)
        let (refused, body) = try HTTPGet.request(rest, path: "/transactions", method: "POST", body: "x")
        XCTAssertEqual(refused, 503, body)
        XCTAssertTrue(body.contains("peer.tls.enabled"), body)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// Four PBFT validators: committed on one, the same txid again refused
    /// (duplicate), a payload over the limit refused, and the committed one
    /// read back by txid through another replica's REST API.
    func testPBFTClusterCommitsRefusesDuplicatesAndOversizedPayloads() throws {
        let peers = try PBFTClusterTests.cluster()
        let target = peers[1].process.listen.description
        let first = try runWeft(["tx", "submit", "--target", target, "--txid", "pbft-once", "--payload", "one", "--wait", "--timeout", "30s"])
        XCTAssertEqual(first.status, 0, first.output + PBFTPeer.describe(peers))
        XCTAssertTrue(first.output.contains("pbft-once committed"), first.output)

        let again = try runWeft(["tx", "submit", "--target", target, "--txid", "pbft-once", "--payload", "two", "--wait", "--timeout", "30s"])
        XCTAssertEqual(again.status, 1, again.output)
        XCTAssertTrue(again.output.contains("duplicate txid"), again.output)

        let big = FileManager.default.temporaryDirectory.appendingPathComponent("weft-big-\(UUID())").path
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: big))
        defer { try? FileManager.default.removeItem(atPath: big) }
        let oversized = try runWeft(["tx", "submit", "--target", target, "--payload-file", big, "--wait", "--timeout", "30s"])
        XCTAssertEqual(oversized.status, 1, oversized.output)
        XCTAssertTrue(oversized.output.contains("refused") && oversized.output.contains("over the limit"), oversized.output)

        let rest = try XCTUnwrap(peers[2].process.rest)
        // The same refusal through another replica's REST API.
        let (refused, refusedBody) = try HTTPGet.request(rest, path: "/transactions?txid=pbft-once&wait=true", method: "POST", body: "three")
        XCTAssertEqual(refused, 400, refusedBody)
        XCTAssertTrue(refusedBody.contains("duplicate txid") && refusedBody.contains("\"refused\""), refusedBody)
        try eventually(timeout: 20, "vp2 serves pbft-once") {
            try HTTPGet.request(rest, path: "/transactions/pbft-once").0 == 200
        }
        let (_, body) = try HTTPGet.request(rest, path: "/transactions/pbft-once")
        let found = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let tx = try XCTUnwrap(found["transaction"] as? [String: Any])
        XCTAssertEqual(tx["payload"] as? String, Data("one".utf8).base64EncodedString())
        XCTAssertNotNil(found["blockNumber"] as? Int)
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
    }

    /// txid → payload (as text) of every transaction in a peer's ledger.
    static func payloads(_ dataDir: String) throws -> [String: String] {
        let scan = try BlockFile.scan(path: dataDir + "/ledger/blocks")
        var out: [String: String] = [:]
        for record in scan.records {
            for tx in record.block.transactions { out[tx.txid] = String(decoding: tx.payload, as: UTF8.self) }
        }
        return out
    }
}
