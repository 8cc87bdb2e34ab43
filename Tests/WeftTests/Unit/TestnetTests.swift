import Foundation
import Weft
import XCTest

/// `weft testnet`: the folder it writes (run as a process), the ports it gives,
/// the certificates it makes through libcrypto, and the arguments it refuses.
final class TestnetTests: XCTestCase {
    private func freshFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("weft-testnet-\(UUID().uuidString.prefix(8))").path
    }

    func testOneHostGetsConsecutivePortsAndEveryCoreYAMLStartsFromItsFolder() throws {
        let dir = freshFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runWeft(["testnet", "--validators", "4", "--hosts", "127.0.0.1:7051", "--out", dir])
        XCTAssertEqual(run.status, 0, run.output)
        for i in 0..<4 {
            let file = "\(dir)/vp\(i)/core.yaml"
            let config = try ConfigLoader.load(file: file, environment: [:], overrides: []).0
            XCTAssertEqual(config.peerID, "vp\(i)")
            XCTAssertEqual(config.listenAddress, "0.0.0.0:\(7051 + i)")
            XCTAssertEqual(config.address, "127.0.0.1:\(7051 + i)")
            XCTAssertEqual(config.operationsListenAddress, "127.0.0.1:\(9443 + i)")
            XCTAssertEqual(config.fileSystemPath, "\(dir)/vp\(i)/data", "the data directory is beside the file")
            XCTAssertEqual(config.consensus.plugin, "pbft")
            XCTAssertEqual([config.pbft.n, config.pbft.f], [4, 1])
            XCTAssertEqual(config.pbft.validators, ["vp0", "vp1", "vp2", "vp3"])
            XCTAssertEqual(Set(config.discovery.rootNodes), Set((0..<4).filter { $0 != i }.map { "127.0.0.1:\(7051 + $0)" }))
            XCTAssertFalse(config.tls.enabled)
            // rest.address is written once this build has the key (the REST server's); REST ports move past the peer ports.
            let text = try String(contentsOfFile: file, encoding: .utf8)
            XCTAssertTrue(text.contains("rest:\n  address: \"127.0.0.1:\(7055 + i)\""), text)
            let unit = try String(contentsOfFile: "\(dir)/vp\(i)/weft-vp\(i).service", encoding: .utf8)
            XCTAssertTrue(unit.contains("ExecStart=/usr/local/bin/weft node start --config /var/lib/weft/vp\(i)/core.yaml"), unit)
            XCTAssertTrue(unit.contains("StateDirectory=weft/vp\(i)\n"), unit)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/client"), "no certificates without --tls")
        let readme = try String(contentsOfFile: "\(dir)/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("| vp3 | 127.0.0.1 | 127.0.0.1:7054 | 127.0.0.1:9446 |"), readme)
        XCTAssertTrue(readme.contains("sudo systemctl enable --now weft-vp0.service"), readme)
    }

    func testValidatorsSharingAHostGetConsecutivePortsThatNeverCollide() throws {
        let hosts = try TestnetSpec.parseHosts("a.example:7051,10.0.0.2:7051,a.example:7051,a.example:8000")
        let plan = try TestnetPlan(TestnetSpec(validators: 4, hosts: hosts))
        XCTAssertEqual(plan.validators.map(\.peerPort), [7051, 7051, 7052, 8000])
        XCTAssertEqual(plan.validators.map(\.operationsPort), [9443, 9443, 9444, 9445])
        // REST from 7050 on a.example would meet its peer ports 7051 and 7052: the block moves past them.
        XCTAssertEqual(plan.validators.map(\.restPort), [7053, 7050, 7054, 7055])
        XCTAssertEqual(plan.faultsTolerated, 1)
        XCTAssertEqual(try TestnetPlan(TestnetSpec(validators: 7, hosts: hosts.prefix(1).map { $0 })).faultsTolerated, 2)
        XCTAssertEqual(SubjectAltName(host: "10.0.0.2"), .ip("10.0.0.2"))
        XCTAssertEqual(SubjectAltName(host: "::1"), .ip("::1"))
        XCTAssertEqual(SubjectAltName(host: "a.example"), .dns("a.example"))
    }

    func testTLSFilesChainToTheCAAndNameTheirHolders() throws {
        let dir = freshFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runWeft(["testnet", "--validators", "4", "--hosts", "10.1.0.1:7051,10.1.0.2:7051,db.example:7051,10.1.0.4:7051",
                               "--out", dir, "--tls"])
        XCTAssertEqual(run.status, 0, run.output)
        for i in 0..<4 {
            let config = try ConfigLoader.load(file: "\(dir)/vp\(i)/core.yaml", environment: [:], overrides: []).0
            XCTAssertTrue(config.tls.enabled)
            XCTAssertEqual(config.tls.keyFile, "\(dir)/vp\(i)/tls/peer.key")
            // What the peer checks at start: readable, the key matches, the certificate chains to the root and names peer.id.
            XCTAssertNoThrow(try TLSContext(config.tls, expectedName: "vp\(i)"))
            XCTAssertThrowsError(try TLSContext(config.tls, expectedName: "vp\((i + 1) % 4)"))
            XCTAssertEqual(try permissions("\(dir)/vp\(i)/tls/peer.key"), 0o600)
            XCTAssertEqual(try permissions("\(dir)/vp\(i)/tls/peer.pem"), 0o644)
        }
        // The DNS host is in vp2's certificate too.
        let vp2 = try ConfigLoader.load(file: "\(dir)/vp2/core.yaml", environment: [:], overrides: []).0
        XCTAssertNoThrow(try TLSContext(vp2.tls, expectedName: "db.example"))
        let client = PeerConfig.TLS(certFile: "\(dir)/client/client.pem", keyFile: "\(dir)/client/client.key", rootCertFile: "\(dir)/client/ca.pem")
        XCTAssertNoThrow(try TLSContext(client, expectedName: "load-0.client.weft"), "clients run with --id-domain client.weft")
        XCTAssertEqual(try permissions("\(dir)/client/client.key"), 0o600)
        XCTAssertEqual(try permissions("\(dir)/ca/ca.key"), 0o600)
        // Each run makes its own CA: another testnet's certificates do not chain to this one.
        let other = freshFolder()
        defer { try? FileManager.default.removeItem(atPath: other) }
        XCTAssertEqual(try runWeft(["testnet", "--validators", "4", "--hosts", "127.0.0.1:7051", "--out", other, "--tls"]).status, 0)
        var mixed = PeerConfig.TLS(certFile: "\(dir)/vp0/tls/peer.pem", keyFile: "\(dir)/vp0/tls/peer.key", rootCertFile: "\(other)/ca/ca.pem")
        mixed.clientAuthRequired = true
        XCTAssertThrowsError(try TLSContext(mixed, expectedName: "vp0"))
    }

    func testBadArgumentsExitTwoNamingTheCause() throws {
        let dir = freshFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], String)] = [
            (["--validators", "3", "--hosts", "127.0.0.1:7051"], "PBFT needs at least 4 validators"),
            (["--validators", "4", "--hosts", "10.0.0.1:7051,10.0.0.2:7051"], "2 host:port values for 4 validators"),
            (["--validators", "4", "--hosts", "10.0.0.1"], "'10.0.0.1' is not host:port"),
            (["--validators", "4", "--hosts", "10.0.0.1:70000"], "'10.0.0.1:70000' is not host:port"),
            (["--validators", "4", "--hosts", "h:7051,,h:7052,h:7053"], "'' is not host:port"),
            (["--validators", "4", "--hosts", "h:65534"], "vp2 on h would need a peer port past 65535"),
            (["--validators", "4"], "--hosts H1:P1,H2:P2,... is required"),
            (["--validators", "2", "--hosts", "h:7051", "--consensus", "raft"], "'raft' is not one of pbft, noops"),
        ]
        for (arguments, message) in cases {
            let run = try runWeft(["testnet", "--out", dir] + arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.output)")
            XCTAssertTrue(run.output.contains(message), "\(arguments): expected '\(message)' in: \(run.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "\(arguments): nothing is written")
        }
        // An existing folder with something in it is never written into.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "keep".write(toFile: dir + "/notes", atomically: true, encoding: .utf8)
        let run = try runWeft(["testnet", "--validators", "4", "--hosts", "127.0.0.1:7051", "--out", dir])
        XCTAssertEqual(run.status, 2, run.output)
        XCTAssertTrue(run.output.contains("is not empty"), run.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["notes"])
        // An empty one is fine; noops takes fewer than 4.
        try FileManager.default.removeItem(atPath: dir + "/notes")
        XCTAssertEqual(try runWeft(["testnet", "--validators", "1", "--hosts", "127.0.0.1:7051", "--out", dir, "--consensus", "noops"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/vp0/core.yaml"))
    }

    private func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777
    }
}
