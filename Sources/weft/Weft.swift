import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

@main
struct WeftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: the peer network layer of a Hyperledger Fabric v0.6 validating peer.",
        discussion: "Start a peer with `weft node start`; see the README and core.yaml for settings.",
        version: WeftVersion.text,
        subcommands: [NodeCommand.self, LoadCommand.self, LedgerCommand.self, ConfigCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    @Flag(help: "Print version, commit and Swift version as JSON (what GET /version answers).")
    var json = false

    func run() {
        if json {
            print(#"{"commit":"\#(WeftVersion.commit)","swift":"\#(WeftVersion.swift)","version":"\#(WeftVersion.text)"}"#)
            return
        }
        print("weft \(WeftVersion.text) (commit \(WeftVersion.commit), Swift \(WeftVersion.swift); protocol: Fabric v0.6 peer messages, framed)")
    }
}

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run or inspect a peer.",
        subcommands: [StartCommand.self, StatusCommand.self])
}

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
    @Option(name: .customLong("log-level"), help: "logging.level: trace, debug, info, warning, error, critical.")
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

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a peer (Fabric's `peer node start`).",
        discussion: """
        Settings come from core.yaml, then CORE_* environment variables \
        (CORE_PEER_DISCOVERY_ROOTNODE for peer.discovery.rootnode), then flags. \
        SIGTERM or SIGINT stops the peer gracefully; a second signal exits at once. \
        Under systemd (Type=notify) it sends READY=1 to $NOTIFY_SOCKET once its \
        listeners are bound, and STOPPING=1 when it starts to stop.
        """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var (config, setKeys) = try options.loadNoting()
        WeftLogging.bootstrap(format: config.logFormat, level: LogLevels.parse(config.logLevel) ?? .info)
        let logger = Logger(label: "weft")
        for name in ConfigLoader.unknownEnvironment(environment) {
            logger.warning("environment variable \(name) names no config key; ignored")
        }
        do {
            let data = try DataDirectory.prepare(&config, explicit: setKeys.contains("peer.fileSystemPath"), environment: environment)
            if let note = data.note { logger.notice("\(note)", metadata: ["dataDir": "\(data.path)"]) }
        } catch {
            logger.critical("cannot start: \(error)")      // through the log (JSON lines too), not as a usage error
            throw ExitCode(64)
        }
        let node: Node
        do {
            node = try Node(config: config, consenter: try ConsenterRegistry.make(config, logger: logger), logger: logger)
        } catch let error as ConfigError {
            throw ValidationError(error.description)     // a setting the consenter refused: exit 64 as for any config error
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let signals = SignalWatcher { signal, count in
            if count == 1 {
                logger.notice("signal \(signal): stopping (a second signal exits at once)")
                StartCommand.notifySystemd("STOPPING=1", logger)
                node.stop()
            } else {
                logger.warning("second signal \(signal): exiting now")
                Glibc.exit(1)
            }
        }
        // Listeners (peers, operations) are bound and listening once Node.init returns.
        StartCommand.notifySystemd("READY=1\nSTATUS=serving peers on \(node.boundAddress)\nMAINPID=\(getpid())", logger)
        try node.run()
        withExtendedLifetime(signals) {}
    }

    /// Type=notify: tells systemd (when it started us) how we are; a failure is logged, not fatal.
    static func notifySystemd(_ state: String, _ logger: Logger) {
        do {
            if try SystemdNotify.send(state) {
                logger.debug("told systemd \(state.split(separator: "\n").first ?? "")")
            }
        } catch {
            logger.warning("\(error)")
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running peer's established peers (GET /peers).")

    @Option(help: "The peer's operations endpoint.")
    var ops = "127.0.0.1:9443"
    @Flag(help: "Print the JSON as the peer sent it.")
    var json = false

    func run() throws {
        guard let target = HostPort(ops) else { throw ValidationError("--ops: '\(ops)' is not host:port") }
        let body: String
        do { body = try HTTPGet.fetch(target, path: "/peers") } catch {
            throw ValidationError("cannot reach the operations endpoint at \(ops): \(error)")
        }
        if json { print(body, terminator: ""); return }
        print(try PeerStatusTable.render(json: body))
    }
}

/// SIGTERM/SIGINT delivered on a dispatch queue; counts them.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var count = 0
    private let queue = DispatchQueue(label: "weft.signals")

    init(_ handler: @escaping @Sendable (Int32, Int) -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [unowned self] in
                self.count += 1
                handler(sig, self.count)
            }
            source.resume()
            sources.append(source)
        }
    }
}
