import Foundation
import Glibc
import WeftTools
import XCTest

/// `weft node start` as a user who may not create /var/hyperledger/production:
/// with nothing set it falls back to a per-user directory; with a path set
/// that cannot be created it stops, naming the key and --data-dir.
final class FirstRunTests: XCTestCase {
    /// A home directory the unprivileged user owns.
    private func makeHome() throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("weft-home-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        if getuid() == 0 { XCTAssertEqual(chown(home, Unprivileged.uid, Unprivileged.gid), 0, "chown \(home)") }
        return home
    }

    func testDefaultDataDirectoryFallsBackToPerUserDirectoryAndSaysSo() throws {
        try Unprivileged.requireDefaultNotCreatable()
        let home = try makeHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let peer = try Unprivileged.start(["node", "start", "--peer-id", "firstrun", "--listen", "127.0.0.1:0",
                                           "--ops-listen", "127.0.0.1:0", "--consensus", "noops"],
                                          environment: ["HOME": home])
        let started = try peer.waitForLog(containing: "peer started", timeout: 20)
        let expected = home + "/.local/share/weft"
        XCTAssertTrue(peer.log.contains("using '\(expected)'"), peer.log)
        XCTAssertTrue(peer.log.contains("/var/hyperledger/production"), "the log names the default it could not use:\n\(peer.log)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: expected + "/ledger/blocks"), "the ledger is in the per-user directory")
        if getuid() == 0 {
            let owner = try FileManager.default.attributesOfItem(atPath: expected)[.ownerAccountID] as? Int
            XCTAssertEqual(owner, Int(Unprivileged.uid), "created by the unprivileged peer itself")
        }
        XCTAssertNotNil(started.range(of: "listen=127.0.0.1:"))
        XCTAssertEqual(try peer.terminate(), 0, peer.log)
        // weft ledger without --path finds that ledger too.
        let verify = try Unprivileged.start(["ledger", "verify"], environment: ["HOME": home])
        XCTAssertEqual(try verify.waitForExit(timeout: 10), 0, verify.log)
        XCTAssertTrue(verify.log.contains("OK \(expected)/ledger/blocks: height 0"), verify.log)
    }

    func testXDGDataHomeIsPreferred() throws {
        try Unprivileged.requireDefaultNotCreatable()
        let home = try makeHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let xdg = home + "/xdg"
        let peer = try Unprivileged.start(["node", "start", "--peer-id", "xdg", "--listen", "127.0.0.1:0", "--ops-listen", ""],
                                          environment: ["HOME": home, "XDG_DATA_HOME": xdg])
        try peer.waitForLog(containing: "peer started", timeout: 20)
        XCTAssertTrue(peer.log.contains("using '\(xdg)/weft'"), peer.log)
        XCTAssertEqual(try peer.terminate(), 0, peer.log)
    }

    func testExplicitPathThatCannotBeCreatedNamesTheKeyAndTheFlag() throws {
        try Unprivileged.requireDefaultNotCreatable()
        let home = try makeHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        // Set three ways: flag, environment, core.yaml; each is explicit, so no fallback.
        let config = home + "/core.yaml"
        try "peer:\n  fileSystemPath: /var/hyperledger/production\n".write(toFile: config, atomically: true, encoding: .utf8)
        if getuid() == 0 { chown(config, Unprivileged.uid, Unprivileged.gid) }
        let base = ["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", ""]
        for (arguments, environment) in [(base + ["--data-dir", "/var/hyperledger/production"], [:]),
                                          (base, ["CORE_PEER_FILESYSTEMPATH": "/var/hyperledger/production"]),
                                          (base + ["--config", config], [:])] {
            let peer = try Unprivileged.start(arguments, environment: environment.merging(["HOME": home]) { $1 })
            let status = try peer.waitForExit(timeout: 20)
            XCTAssertEqual(status, 64, "EX_USAGE, as for any bad setting: \(peer.log)")
            XCTAssertTrue(peer.log.contains("config key 'peer.fileSystemPath': cannot create '/var/hyperledger/production'"), peer.log)
            XCTAssertTrue(peer.log.contains("Permission denied"), "the system's reason:\n\(peer.log)")
            XCTAssertTrue(peer.log.contains("--data-dir"), peer.log)
            XCTAssertFalse(FileManager.default.fileExists(atPath: home + "/.local/share/weft"), "no fallback for an explicit path")
        }
    }
}
