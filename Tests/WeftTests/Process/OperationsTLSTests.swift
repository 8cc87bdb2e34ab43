import Foundation
import Weft
import WeftTools
import XCTest

/// The operations listener locked with Fabric 1.4's `operations.tls.*`: real
/// TLS clients without a certificate, with one from another CA, and with a
/// good one; the reads closed, then open (`operations.tls.openReads`).
final class OperationsTLSTests: XCTestCase {
    private var certs: TestCertificates!
    private var foreign: TestCertificates!

    override func setUpWithError() throws {
        certs = try TestCertificates(names: ["ops", "admin"])
        foreign = try TestCertificates(names: ["admin"], caName: "Some other CA")
    }

    private func lockedPeer(_ name: String, openReads: Bool) throws -> PeerProcess {
        try PeerProcess(name: name, settings: [
            "operations.tls.enabled": "true", "operations.tls.cert.file": certs.dir + "/ops.pem",
            "operations.tls.key.file": certs.dir + "/ops.key", "operations.tls.clientAuthRequired": "true",
            "operations.tls.clientRootCAs.files": certs.caFile, "operations.tls.openReads": "\(openReads)",
        ])
    }

    /// A TLS client trusting the listener's CA, with `identity`'s certificate (nil: none).
    private func client(_ identity: TestCertificates?) throws -> TLSContext {
        try TLSContext(certFile: identity.map { $0.dir + "/admin.pem" }, keyFile: identity.map { $0.dir + "/admin.key" },
                       trustedFiles: [certs.caFile], keys: .peer)
    }

    private func putLogSpec(_ peer: PeerProcess, _ level: String, _ tls: TLSContext) throws -> (Int, String) {
        try HTTPGet.request(peer.ops, path: "/logspec", method: "PUT", body: #"{"spec":"\#(level)"}"#, tls: tls)
    }

    func testClientAuthLocksLogspecAndTheReads() throws {
        let peer = try lockedPeer("opslock", openReads: false)
        let anonymous = try client(nil), stranger = try client(foreign), admin = try client(certs)

        var (status, body) = try putLogSpec(peer, "debug", anonymous)
        XCTAssertEqual(status, 403, body)
        XCTAssertTrue(body.contains("PUT /logspec needs a client certificate") && body.contains("none was presented"), body)
        (status, body) = try HTTPGet.request(peer.ops, path: "/healthz", tls: anonymous)
        XCTAssertEqual(status, 403, "reads are closed without operations.tls.openReads: \(body)")

        (status, body) = try putLogSpec(peer, "debug", stranger)
        XCTAssertEqual(status, 403, body)
        XCTAssertTrue(body.contains("refused"), body)
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/metrics", tls: stranger).0, 403)

        (status, body) = try putLogSpec(peer, "debug", admin)
        XCTAssertEqual(status, 204, body)
        XCTAssertTrue(try HTTPGet.fetch(peer.ops, path: "/logspec", tls: admin).contains(#""spec":"debug""#))
        XCTAssertTrue(try HTTPGet.fetch(peer.ops, path: "/metrics", tls: admin).contains("weft_build_info"))

        // Plain HTTP gets no answer from a TLS listener.
        XCTAssertThrowsError(try HTTPGet.request(peer.ops, path: "/healthz"))

        // weft node status speaks TLS with the client flags.
        let anonymousStatus = try runWeft(["node", "status", "--ops", peer.ops.description, "--tls-root-cert", certs.caFile])
        XCTAssertEqual(anonymousStatus.status, 1, anonymousStatus.output)
        XCTAssertTrue(anonymousStatus.output.contains("HTTP 403"), anonymousStatus.output)
        let adminStatus = try runWeft(["node", "status", "--ops", peer.ops.description, "--tls-root-cert", certs.caFile,
                                       "--tls-cert", certs.dir + "/admin.pem", "--tls-key", certs.dir + "/admin.key"])
        XCTAssertEqual(adminStatus.status, 0, adminStatus.output)
        XCTAssertTrue(adminStatus.output.contains("peer opslock: 0 established"), adminStatus.output)
    }

    func testOpenReadsLeaveTheGETsToAnyTLSClient() throws {
        let peer = try lockedPeer("opsopen", openReads: true)
        let anonymous = try client(nil), stranger = try client(foreign), admin = try client(certs)
        for path in ["/healthz", "/metrics", "/version", "/peers", "/logspec"] {
            let (status, body) = try HTTPGet.request(peer.ops, path: path, tls: anonymous)
            XCTAssertEqual(status, 200, "\(path): \(body)")
        }
        XCTAssertEqual(try putLogSpec(peer, "debug", anonymous).0, 403)
        XCTAssertEqual(try putLogSpec(peer, "debug", stranger).0, 403)
        XCTAssertEqual(try HTTPGet.fetch(peer.ops, path: "/logspec", tls: anonymous), #"{"spec":"info"}"# + "\n")
        XCTAssertEqual(try putLogSpec(peer, "warning", admin).0, 204)
        XCTAssertEqual(try HTTPGet.fetch(peer.ops, path: "/logspec", tls: anonymous), #"{"spec":"warning"}"# + "\n")
    }

    func testTLSWithoutClientAuthAnswersEveryone() throws {
        let peer = try PeerProcess(name: "opstls", settings: [
            "operations.tls.enabled": "true", "operations.tls.cert.file": certs.dir + "/ops.pem",
            "operations.tls.key.file": certs.dir + "/ops.key",
        ])
        XCTAssertEqual(try putLogSpec(peer, "debug", try client(nil)).0, 204)
        // A client certificate is not asked for, so even a stranger's is no obstacle.
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/healthz", tls: try client(foreign)).0, 200)
    }

    func testBadOperationsTLSSettingsStopTheStartNamingTheKey() throws {
        let cases: [([String], String)] = [
            (["operations.tls.enabled=true"], "operations.tls.cert.file"),
            (["operations.tls.enabled=true", "operations.tls.cert.file=\(certs.dir)/ops.pem", "operations.tls.key.file=\(certs.dir)/admin.key"],
             "operations.tls.key.file"),
            (["operations.tls.clientAuthRequired=true"], "operations.tls.clientAuthRequired"),
            (["operations.tls.enabled=true", "operations.tls.cert.file=\(certs.dir)/ops.pem", "operations.tls.key.file=\(certs.dir)/ops.key",
              "operations.tls.clientAuthRequired=true"], "operations.tls.clientRootCAs.files"),
            (["operations.tls.enabled=true", "operations.tls.cert.file=\(certs.dir)/ops.pem", "operations.tls.key.file=\(certs.dir)/ops.key",
              "operations.tls.clientAuthRequired=true", "operations.tls.clientRootCAs.files=/nonexistent/ca.pem"], "operations.tls.clientRootCAs.files"),
        ]
        for (settings, key) in cases {
            let dir = TestScratch.path("weft-opsbad")
            let run = try runWeft(["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--data-dir", dir]
                                  + settings.flatMap { ["--set", $0] })
            XCTAssertEqual(run.status, 64, "\(settings): \(run.output)")
            XCTAssertTrue(run.output.contains("'\(key)'"), "\(settings) should name \(key): \(run.output)")
        }
    }
}
