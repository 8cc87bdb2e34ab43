import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

/// Flags shared by commands that read the peer configuration.
struct ConfigOptions: ParsableArguments {
    @Option(help: "core.yaml to read (default: $FABRIC_CFG_PATH/core.yaml if it exists, else built-in defaults).")
    var config: String?
    @Option(name: .customLong("peer-id"), help: "peer.id: this peer's name.")
    var peerID: String?
    @Option(help: "peer.listenAddress: host:port to accept peers on (port 0 = any).")
    var listen: String?
    @Option(help: "peer.address: host:port advertised to other peers.")
    var address: String?
    @Option(name: .customLong("root-node"), help: "peer.discovery.rootnode: comma-separated host:port list.")
    var rootNode: String?
    @Option(help: "peer.validator.consensus.plugin: noops, pbft or echo.")
    var consensus: String?
    @Option(name: .customLong("data-dir"), help: "peer.fileSystemPath: data directory (default /var/hyperledger/production; set nowhere and not creatable: ~/.local/share/weft).")
    var dataDir: String?
    @Option(name: .customLong("ops-listen"), help: "peer.operations.listenAddress (empty = off).")
    var opsListen: String?
    @Option(name: .customLong("log-level"), help: ArgumentHelp("logging.level: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (over CORE_LOGGING_LEVEL and FABRIC_LOGGING_SPEC).", valueName: "level"))
    var logLevel: String?
    @Flag(name: .customLong("tls"), help: "peer.tls.enabled: mutual TLS 1.3 on every peer link.")
    var tls = false
    @Option(name: .customLong("tls-cert"), help: "peer.tls.cert.file: PEM certificate of this peer.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "peer.tls.key.file: PEM private key.")
    var tlsKey: String?
    @Option(name: .customLong("tls-root-cert"), help: "peer.tls.rootcert.file: PEM CA every peer must chain to.")
    var tlsRootCert: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Any config key: --set peer.limits.maxConnections=4096 (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    func overrides() throws -> [(String, String)] {
        var list: [(String, String)] = []
        for item in settings {
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--set takes key=value, got '\(item)'") }
            list.append((String(item[..<eq]), String(item[item.index(after: eq)...])))
        }
        let named: [(String, String?)] = [
            ("peer.id", peerID), ("peer.listenAddress", listen), ("peer.address", address),
            ("peer.discovery.rootnode", rootNode), ("peer.validator.consensus.plugin", consensus),
            ("peer.fileSystemPath", dataDir), ("peer.operations.listenAddress", opsListen), ("logging.level", logLevel),
            ("peer.tls.enabled", tls ? "true" : nil), ("peer.tls.cert.file", tlsCert),
            ("peer.tls.key.file", tlsKey), ("peer.tls.rootcert.file", tlsRootCert),
        ]
        for case let (key, value?) in named { list.append((key, value)) }
        return list
    }

    func load() throws -> PeerConfig { try loadNoting().config }

    /// The configuration and the keys set by a file, a variable or a flag.
    func loadNoting() throws -> (config: PeerConfig, setKeys: Set<String>) {
        do {
            let loaded = try ConfigLoader.loadNoting(file: config, environment: ProcessInfo.processInfo.environment, overrides: try overrides())
            return (loaded.config, loaded.setKeys)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }
}
