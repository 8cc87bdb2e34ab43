import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// Mutual TLS on peer links (peer.tls.*): real peer processes, certificates
/// made by scripts/cluster/gen-certs.sh, clients that are refused for every reason
/// the issue names, and the mesh carrying on meanwhile.
final class TLSTests: XCTestCase {
    func testATLSMeshOfThreePeersCarriesEchoBroadcastAndTheLoadTool() throws {
        let certs = try TestCertificates(names: ["tls-0", "tls-1", "tls-2"])
        let root = try PeerProcess(name: "tls-0", settings: certs.settings(for: "tls-0"))
        let others = try ["tls-1", "tls-2"].map { name in
            try PeerProcess(name: name, settings: certs.settings(for: name, rootNode: root.listen))
        }
        let peers = [root] + others
        try eventually("a full mesh over TLS") {
            try peers.allSatisfy { p in try p.peerNames() == ["tls-0", "tls-1", "tls-2"].filter { $0 != p.name } }
        }
        for p in peers {
            XCTAssertEqual(try p.metric("weft_connections_open"), 2, p.name)
            XCTAssertGreaterThanOrEqual(try p.metric("weft_tls_handshakes_total"), 1, p.name)
        }

        // Echo over TLS, byte for byte and in order, through a client with the load certificate.
        let client = try WireClient(root.listen)
        try client.secure(certs.clientContext())
        try client.write(WireClient.hello(name: "echo-1.load.weft"))
        XCTAssertEqual(try client.readMessage().type, .discHello)
        try client.echoCheck(count: 3000, tag: 7)

        // The load tool over TLS.
        let load = try runWeft(["load", "--target", root.listen.description, "-c", "4", "-w", "8", "-d", "1", "--warmup", "0",
                                "--json", "--quiet", "--id-domain", "load.weft"] + certs.loadFlags)
        XCTAssertEqual(load.status, 0, load.output)
        let summary = try JSONDecoder().decode(LoadResult.self, from: Data(load.output.split(separator: "\n").last.map(String.init)!.utf8))
        XCTAssertGreaterThan(summary.received, 100)
        XCTAssertEqual(summary.errors, 0)
        XCTAssertEqual(summary.connections, 4)

        // The load tool's TLS mistakes are named before any connection is made.
        let partial = try runWeft(["load", "--target", root.listen.description, "--tls-cert", certs.dir + "/load.pem"])
        XCTAssertNotEqual(partial.status, 0)
        XCTAssertTrue(partial.output.contains("TLS needs all three of --tls-cert, --tls-key and --tls-root-cert"), partial.output)
        let unnamed = try runWeft(["load", "--target", root.listen.description, "-d", "1"] + certs.loadFlags)
        XCTAssertNotEqual(unnamed.status, 0)
        XCTAssertTrue(unnamed.output.contains("--tls-cert: the certificate in '\(certs.dir)/load.pem' carries 'load-0'"), unnamed.output)
    }

    func testBroadcastReachesEveryPeerOverTLS() throws {
        let certs = try TestCertificates(names: ["tbc-0", "tbc-1", "tbc-2", "tbc-3"])
        let receivers = (0..<3).map { _ in RecordingConsenter() }
        let sender = BroadcastingConsenter()
        let first = try InProcessPeer(name: "tbc-0", consenter: sender, settings: certs.settings(for: "tbc-0"))
        let others = try (0..<3).map { i in
            try InProcessPeer(name: "tbc-\(i + 1)", consenter: receivers[i], rootNode: first.node.boundAddress.description,
                              settings: certs.settings(for: "tbc-\(i + 1)"))
        }
        try eventually("the sender sees the three others") { sender.peerCount() == 3 }
        sender.broadcast(count: 1000)
        try eventually("each receiver has 1000 messages") { receivers.allSatisfy { $0.received.count == 1000 } }
        for (i, r) in receivers.enumerated() {
            XCTAssertEqual(r.received, Array(0..<1000), "receiver \(i): each message once, in order")
        }
        withExtendedLifetime(others) {}
    }

    func testClientsWithoutTheRightCertificateOrNameAreRefusedAndTheMeshCarriesOn() throws {
        let certs = try TestCertificates(names: ["ref-0", "ref-1", "stranger"])
        let foreign = try TestCertificates(names: ["ref-9"], caName: "Another CA")
        var settings = certs.settings(for: "ref-0")
        settings["peer.limits.handshakeTimeout"] = "2s"
        let a = try PeerProcess(name: "ref-0", settings: settings)
        let b = try PeerProcess(name: "ref-1", settings: certs.settings(for: "ref-1", rootNode: a.listen))
        try eventually("the two peers meet") { try a.peerNames() == ["ref-1"] && b.peerNames() == ["ref-0"] }

        // 0. A handshake that stalls after 3 bytes of a record header: the reactor
        //    goes on with everyone else, and the timeout ends it.
        let stalled = try WireClient(a.listen)
        try stalled.write([0x16, 0x03, 0x01])

        // 1. No certificate at all (openssl s_client offers none).
        let bare = try runProcess("/usr/bin/env", ["openssl", "s_client", "-connect", a.listen.description,
                                                   "-CAfile", certs.caFile, "-tls1_3", "-ign_eof"],
                                  stdin: "")
        try eventually("the bare client is refused") { try a.metric("weft_connections_closed_total{cause=\"tls_handshake\"}") == 1 }
        XCTAssertNoThrow(try a.waitForLog(containing: "peer did not return a certificate"), bare.output)

        // 2. A certificate from another CA (the client trusts ours, so only the peer can refuse it).
        let bundle = certs.dir + "/both-cas.pem"
        try (String(contentsOfFile: certs.caFile, encoding: .utf8) + String(contentsOfFile: foreign.caFile, encoding: .utf8))
            .write(toFile: bundle, atomically: true, encoding: .utf8)
        var foreignTLS = foreign.tls(for: "ref-9")
        foreignTLS.rootCertFile = bundle
        let outsider = try WireClient(a.listen)
        XCTAssertThrowsError(try {
            try outsider.secure(TLSContext(foreignTLS, expectedName: nil))
            try outsider.write(WireClient.hello(name: "ref-9"))
            _ = try outsider.readMessage()
        }(), "a certificate of another CA must not get through")
        try eventually("the foreign certificate is refused") { try a.metric("weft_connections_closed_total{cause=\"tls_handshake\"}") == 2 }
        try a.waitForLog(containing: "certificate verify failed")

        // 3. A good certificate, but the hello claims another peer's name.
        let impostor = try WireClient(a.listen)
        try impostor.secure(TLSContext(certs.tls(for: "stranger"), expectedName: nil))
        try impostor.write(WireClient.hello(name: "ref-1", type: .validator))
        let answer = try impostor.readUntilClosed()
        XCTAssertEqual(answer.map(\.type), [.discDisconnect])
        XCTAssertEqual(answer.first.map { String(decoding: $0.payload, as: UTF8.self) }, "hello name does not match the TLS certificate")
        try eventually("the impostor is counted") { try a.metric("weft_connections_closed_total{cause=\"certificate_mismatch\"}") == 1 }

        // 4. Plain TCP to a TLS peer.
        let plain = try WireClient(a.listen)
        try plain.write(WireClient.hello(name: "plain"))
        XCTAssertEqual(try plain.readUntilClosed().count, 0)
        try eventually("plain TCP is refused") { try a.metric("weft_connections_closed_total{cause=\"tls_handshake\"}") == 3 }

        // The mesh never noticed: the same single connection, the real ref-1 still there.
        XCTAssertEqual(try a.peerNames(), ["ref-1"])
        XCTAssertEqual(try b.peerNames(), ["ref-0"])
        XCTAssertEqual(try a.metric("weft_handshakes_total"), 1)
        XCTAssertEqual(try b.metric("weft_connections_closed_total{cause=\"duplicate\"}"), 0)
        let good = try WireClient(a.listen)
        try good.secure(certs.clientContext())
        try good.write(WireClient.hello(name: "after-1.load.weft"))
        XCTAssertEqual(try good.readMessage().type, .discHello)
        try good.echoCheck(count: 500, tag: 3)
        try eventually("the stalled handshake times out") {
            try a.metric("weft_connections_closed_total{cause=\"handshake_timeout\"}") == 1
        }
        try a.waitForLog(containing: "TLS handshake not finished within the handshake timeout")
        withExtendedLifetime(stalled) {}
    }

    /// TLS 1.3: a dialer whose certificate the other side refuses finishes
    /// its handshake and learns of the refusal only when it reads, after its
    /// hello went out and before any frame came back. That is a failed TLS
    /// handshake, not an I/O error, on both sides.
    func testADialerWhoseCertificateIsRefusedCountsAFailedHandshake() throws {
        let certs = try TestCertificates(names: ["dr-0"])
        let foreign = try TestCertificates(names: ["dr-9"], caName: "Another CA")
        let target = try PeerProcess(name: "dr-0", settings: certs.settings(for: "dr-0"))
        let bundle = foreign.dir + "/both-cas.pem"             // the dialer trusts the target: only the target refuses
        try (String(contentsOfFile: certs.caFile, encoding: .utf8) + String(contentsOfFile: foreign.caFile, encoding: .utf8))
            .write(toFile: bundle, atomically: true, encoding: .utf8)
        var settings = foreign.settings(for: "dr-9", rootNode: target.listen)
        settings["peer.tls.rootcert.file"] = bundle
        let dialer = try PeerProcess(name: "dr-9", settings: settings)
        try eventually("the dialer saw its certificate refused") {
            try dialer.metric("weft_connections_closed_total{cause=\"tls_handshake\"}") >= 1
        }
        XCTAssertGreaterThanOrEqual(try target.metric("weft_connections_closed_total{cause=\"tls_handshake\"}"), 1)
        XCTAssertEqual(try dialer.metric("weft_connections_closed_total{cause=\"io_error\"}"), 0)
        XCTAssertEqual(try dialer.peerNames(), [])
        XCTAssertEqual(try target.peerNames(), [])
    }

    /// Records already decrypted-able but held back while the ring is full
    /// must be opened when it drains: the socket has nothing new to say then.
    func testBackpressureOverTLSLosesNothing() throws {
        let certs = try TestCertificates(names: ["tbp-0"])
        var settings = certs.settings(for: "tbp-0")
        settings["peer.validator.consensus.buffersize"] = "2"
        settings["peer.validator.consensus.echo.delay"] = "2ms"
        let peer = try PeerProcess(name: "tbp-0", settings: settings)
        let client = try WireClient(peer.listen)
        try client.secure(certs.clientContext())
        try client.write(WireClient.hello(name: "flood-1.load.weft"))
        XCTAssertEqual(try client.readMessage().type, .discHello)
        try client.echoCheck(count: 400, tag: 5, window: 400)
        XCTAssertGreaterThan(try peer.metric("weft_ring_full_total"), 0, "the reader was paused at least once")
    }

    func testServerHostOverrideNamesTheCertificateADialExpects() throws {
        let certs = try TestCertificates(names: ["ov-0", "ov-1", "ov-2"])
        let target = try PeerProcess(name: "ov-0", settings: certs.settings(for: "ov-0"))
        var wrong = certs.settings(for: "ov-1", rootNode: target.listen)
        wrong["peer.tls.serverhostoverride"] = "someone-else"
        let misled = try PeerProcess(name: "ov-1", settings: wrong)
        var right = certs.settings(for: "ov-2", rootNode: target.listen)
        right["peer.tls.serverhostoverride"] = "ov-0"
        let guided = try PeerProcess(name: "ov-2", settings: right)
        try eventually("the dial expecting ov-0 gets it") { try guided.peerNames().contains("ov-0") }
        try misled.waitForLog(containing: "certificate verify failed: hostname mismatch")
        XCTAssertEqual(try misled.peerNames(), [], "a dial expecting another name never establishes")
        XCTAssertGreaterThan(try misled.metric("weft_connections_closed_total{cause=\"tls_handshake\"}"), 0)
    }

    /// peer.tls.clientAuthRequired false: a client without a certificate is let
    /// through the handshake (its hello name is then unproven, and logged so).
    func testClientAuthCanBeMadeOptional() throws {
        let certs = try TestCertificates(names: ["opt-0"])
        var settings = certs.settings(for: "opt-0")
        settings["peer.tls.clientAuthRequired"] = "false"
        let peer = try PeerProcess(name: "opt-0", settings: settings)
        let bare = try runProcess("/usr/bin/env", ["openssl", "s_client", "-connect", peer.listen.description, "-brief",
                                                   "-CAfile", certs.caFile], stdin: "")
        XCTAssertTrue(bare.output.contains("Protocol version: TLSv1.3"), bare.output)
        try eventually("the handshake without a certificate completes") { try peer.metric("weft_tls_handshakes_total") == 1 }
        XCTAssertEqual(try peer.metric("weft_connections_closed_total{cause=\"tls_handshake\"}"), 0)
    }

    func testOpenSSLSeesTLS13AndCannotGetOlderVersions() throws {
        let certs = try TestCertificates(names: ["ossl-0"])
        let peer = try PeerProcess(name: "ossl-0", settings: certs.settings(for: "ossl-0"))
        let modern = try runProcess("/usr/bin/env", ["openssl", "s_client", "-connect", peer.listen.description, "-brief",
                                                     "-CAfile", certs.caFile, "-cert", certs.dir + "/load.pem", "-key", certs.dir + "/load.key"],
                                    stdin: "")
        XCTAssertTrue(modern.output.contains("Protocol version: TLSv1.3"), modern.output)
        XCTAssertTrue(modern.output.contains("Peer certificate: CN = ossl-0"), modern.output)
        XCTAssertTrue(modern.output.contains("Verification: OK"), modern.output)
        let old = try runProcess("/usr/bin/env", ["openssl", "s_client", "-connect", peer.listen.description, "-brief", "-tls1_2",
                                                  "-CAfile", certs.caFile, "-cert", certs.dir + "/load.pem", "-key", certs.dir + "/load.key"],
                                 stdin: "")
        XCTAssertNotEqual(old.status, 0, old.output)
        XCTAssertFalse(old.output.contains("CONNECTION ESTABLISHED"), old.output)
    }

    func testTLSMeshAcrossNetworkNamespaces() throws {
        let script = RepoRoot.url.appendingPathComponent("scripts/cluster/netns-cluster.sh").path
        let (status, text) = try runProcess("/bin/bash", [script, "3", "--tls", "--timeout", "30"], environment: ["WEFT_BIN": PeerProcess.binary])
        if status == 77 {
            throw XCTSkip("network namespaces unavailable: " + (text.split(separator: "\n").first { $0.contains("SKIP") }.map(String.init) ?? text))
        }
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("full mesh of 3 peers formed"), text)
        XCTAssertTrue(text.contains("gen-certs: "), text)
    }

    func testBadTLSFilesStopThePeerAtStartWithTheKeyAndTheCause() throws {
        let certs = try TestCertificates(names: ["bad-0", "bad-1"])
        let foreign = try TestCertificates(names: ["bad-0"], caName: "Another CA")
        func start(_ tls: [String: String]) throws -> String {
            let dir = TestScratch.path("weft-badtls")
            var args = ["node", "start", "--peer-id", "bad-0", "--listen", "127.0.0.1:0", "--ops-listen", "", "--data-dir", dir, "--tls"]
            for (key, value) in tls.sorted(by: { $0.key < $1.key }) { args += ["--set", "\(key)=\(value)"] }
            let result = try runWeft(args)
            XCTAssertNotEqual(result.status, 0, result.output)
            return result.output
        }
        let good = certs.settings(for: "bad-0")
        func with(_ key: String, _ value: String) -> [String: String] { good.merging([key: value]) { $1 } }

        XCTAssertTrue(try start([:]).contains("peer.tls.cert.file': required when peer.tls.enabled is true"))
        XCTAssertTrue(try start(with("peer.tls.key.file", certs.dir + "/missing.key")).contains("peer.tls.key.file': '\(certs.dir)/missing.key' does not exist"))
        XCTAssertTrue(try start(with("peer.tls.key.file", certs.dir + "/bad-1.key")).contains("does not match the certificate"))
        XCTAssertTrue(try start(with("peer.tls.cert.file", certs.caFile + "x")).contains("peer.tls.cert.file"))
        XCTAssertTrue(try start(with("peer.tls.rootcert.file", certs.dir + "/bad-0.key")).contains("peer.tls.rootcert.file"))
        XCTAssertTrue(try start(with("peer.tls.cert.file", foreign.dir + "/bad-0.pem").merging(["peer.tls.key.file": foreign.dir + "/bad-0.key"]) { $1 })
            .contains("does not chain to peer.tls.rootcert.file"))
        XCTAssertTrue(try start(with("peer.tls.cert.file", certs.dir + "/bad-1.pem").merging(["peer.tls.key.file": certs.dir + "/bad-1.key"]) { $1 })
            .contains("carries 'bad-0' (peer.id) neither as its CN nor as a DNS SAN"))
    }
}
