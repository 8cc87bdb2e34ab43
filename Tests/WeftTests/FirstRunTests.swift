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

/// Runs the weft binary as an unprivileged user: `setpriv` to nobody when the
/// tests run as root, else as the (already unprivileged) current user.
enum Unprivileged {
    static let uid: uid_t = 65534
    static let gid: gid_t = 65534

    /// The default must be out of reach for the test to mean anything.
    static func requireDefaultNotCreatable() throws {
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw XCTSkip("running as root without /usr/bin/setpriv (util-linux) to drop to an unprivileged user")
            }
            guard getpwuid(uid) != nil else { throw XCTSkip("no user with uid \(uid) (nobody) to run the peer as") }
        } else if access("/var/hyperledger/production", W_OK) == 0 || access("/var", W_OK) == 0 {
            throw XCTSkip("this user may write /var/hyperledger/production, so the default is usable here")
        }
    }

    static func start(_ arguments: [String], environment: [String: String]) throws -> CapturedProcess {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CORE_") && $0.key != "FABRIC_CFG_PATH" && $0.key != "XDG_DATA_HOME" }
        env.merge(environment) { $1 }
        if getuid() == 0 {
            return try CapturedProcess("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", try binaryForNobody()] + arguments,
                                       environment: env, label: "weft \(arguments.prefix(2).joined(separator: " ")) as nobody")
        }
        return try CapturedProcess(PeerProcess.binary, arguments, environment: env, label: "weft \(arguments.prefix(2).joined(separator: " "))")
    }

    /// The binary under test where the unprivileged user can run it: the
    /// checkout may sit in a folder only root may enter (/root), so a copy in
    /// a world-readable temporary folder, tried once.
    private static func binaryForNobody() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-bin-\(getpid())")
        let copy = dir.appendingPathComponent("weft").path
        if !FileManager.default.fileExists(atPath: copy) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try FileManager.default.copyItem(atPath: PeerProcess.binary, toPath: copy)
            chmod(copy, 0o755)
        }
        let check = try runProcess("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", copy, "version"])
        guard check.status == 0 else {
            throw XCTSkip("the unprivileged user cannot run the test binary (its Swift runtime libraries are out of its reach?): \(check.output)")
        }
        return copy
    }
}
