import ArgumentParser
import Foundation
import Weft

/// Where `weft ledger` finds a peer's ledger: `--path`, else the data
/// directory the peer itself would use (`--data-dir`, `CORE_PEER_FILESYSTEMPATH`,
/// core.yaml through `--config` or `$FABRIC_CFG_PATH`, the built-in default,
/// else the per-user directory a first run falls back to).
struct LedgerLocation: ParsableArguments {
    @Option(help: "core.yaml whose peer.fileSystemPath to read (default: $FABRIC_CFG_PATH/core.yaml if it exists).")
    var config: String?
    @Option(name: .customLong("data-dir"), help: "peer.fileSystemPath: the peer's data directory (over CORE_PEER_FILESYSTEMPATH and core.yaml).")
    var dataDir: String?
    @Option(help: "A data directory (or, for verify and blocks, a ledger file); over --data-dir.")
    var path: String?

    /// The data directory the peer's configuration names (the executable's own config loading).
    func configuredDataDirectory() throws -> String {
        var arguments: [String] = []
        if let config { arguments += ["--config", config] }
        if let dataDir { arguments += ["--data-dir", dataDir] }
        let loaded = try ConfigOptions.parse(arguments).loadNoting()
        let configured = loaded.config.fileSystemPath
        if !loaded.setKeys.contains("peer.fileSystemPath"), !FileManager.default.fileExists(atPath: configured),
           let own = DataDirectory.perUserDirectory(ProcessInfo.processInfo.environment),
           FileManager.default.fileExists(atPath: own) {
            return own
        }
        return configured
    }

    /// `--path` or the configured data directory.
    func target() throws -> String { try path ?? configuredDataDirectory() }

    /// A reader on the data directory (`--path` must be one).
    func reader() throws -> LedgerReader {
        let directory = try target()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("'\(directory)' is not a data directory (peer.fileSystemPath, holding ledger/)")
        }
        return try LedgerReader(dataDirectory: directory)
    }

    /// The block file at `given`: the file itself, or `<given>/ledger/blocks`.
    static func ledgerFile(_ given: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: given, isDirectory: &isDirectory) else {
            throw ValidationError("no ledger at '\(given)'")
        }
        let file = isDirectory.boolValue ? (given as NSString).appendingPathComponent("ledger/blocks") : given
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no ledger file at '\(file)'") }
        return file
    }

    /// Where the durable blocks of the block file `file` end, by its index (nil: no index beside it).
    static func durableEnd(ofLedgerFile file: String) -> Int? {
        let directory = ((file as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        guard (file as NSString).lastPathComponent == "blocks", let reader = try? LedgerReader(dataDirectory: directory) else { return nil }
        return try? reader.durableEnd()
    }
}
