import Foundation
import Glibc
import WeftTools
import XCTest

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
