import Foundation
import Glibc

/// `peer.fileSystemPath` made ready before a peer starts.
///
/// Operators keep Fabric's `/var/hyperledger/production`. A developer who set
/// nothing and may not create that (not root) gets a per-user directory
/// instead: `$XDG_DATA_HOME/weft`, else `~/.local/share/weft`. A path that
/// was set (core.yaml, `CORE_PEER_FILESYSTEMPATH`, `--data-dir`) is used as
/// given or start-up fails naming the key.
public enum DataDirectory {
    public struct Resolution: Sendable, Equatable {
        /// The directory in use (it exists).
        public let path: String
        /// Why it is not the default, when it is not (for the log).
        public let note: String?
    }

    /// Creates `config.fileSystemPath`, or falls back as described above (and
    /// rewrites `config.fileSystemPath`). `explicit`: the key was set somewhere.
    public static func prepare(_ config: inout PeerConfig, explicit: Bool,
                               environment: [String: String]) throws(ConfigError) -> Resolution {
        let wanted = config.fileSystemPath
        let failure: String
        switch create(wanted) {
        case nil: return Resolution(path: wanted, note: nil)
        case let reason?: failure = reason
        }
        guard !explicit else {
            throw ConfigError(key: "peer.fileSystemPath",
                              reason: "cannot create '\(wanted)': \(failure); set another directory with --data-dir DIR (or CORE_PEER_FILESYSTEMPATH)")
        }
        guard let fallback = perUserDirectory(environment) else {
            throw ConfigError(key: "peer.fileSystemPath",
                              reason: "cannot create the default '\(wanted)': \(failure), and there is no home directory to use instead; set one with --data-dir DIR")
        }
        if let reason = create(fallback) {
            throw ConfigError(key: "peer.fileSystemPath",
                              reason: "cannot create the default '\(wanted)' (\(failure)) nor the per-user '\(fallback)' (\(reason)); set one with --data-dir DIR")
        }
        config.fileSystemPath = fallback
        return Resolution(path: fallback, note: "peer.fileSystemPath is not set and the default '\(wanted)' cannot be created (\(failure)): using '\(fallback)' (set it with --data-dir or CORE_PEER_FILESYSTEMPATH)")
    }

    /// `$XDG_DATA_HOME/weft`, else `$HOME/.local/share/weft` (HOME from the
    /// environment, else the password database).
    public static func perUserDirectory(_ environment: [String: String]) -> String? {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("weft")
        }
        var home = environment["HOME"] ?? ""
        if home.isEmpty || home == "/" || home == "/nonexistent", let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir {
            home = String(cString: dir)
        }
        guard home.hasPrefix("/"), home != "/", home != "/nonexistent" else { return nil }
        return (home as NSString).appendingPathComponent(".local/share/weft")
    }

    /// Creates the directory (and its parents); nil on success, else why not
    /// (the system's reason, for example `Permission denied`).
    static func create(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return "it exists and is not a directory" }
            return access(path, W_OK | X_OK) == 0 ? nil : String(cString: strerror(errno))
        }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
        }
        return access(path, W_OK | X_OK) == 0 ? nil : String(cString: strerror(errno))
    }
}
