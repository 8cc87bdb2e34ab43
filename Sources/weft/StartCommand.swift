import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a peer (Fabric's `peer node start`).",
        discussion: """
        Settings come from core.yaml, then CORE_* environment variables \
        (CORE_PEER_DISCOVERY_ROOTNODE for peer.discovery.rootnode), then flags. \
        SIGTERM or SIGINT stops the peer gracefully; a second signal exits at once. \
        Under systemd (Type=notify) it sends READY=1 to $NOTIFY_SOCKET once its \
        listeners are bound, and STOPPING=1 when it starts to stop. \
        FABRIC_LOGGING_SPEC (Fabric's `info:gossip=debug`) sets the level under \
        CORE_LOGGING_LEVEL and --log-level; terms naming loggers are ignored, with a warning.
        """)

    @OptionGroup var options: ConfigOptions
    @Option(name: .customLong("ready-file"), help: ArgumentHelp(
        "Once the peer listens, write {\"pid\",\"listen\",\"address\",\"operations\"} as JSON to this file (atomically; removed at a graceful stop).",
        valueName: "path"))
    var readyFile: String?

    func run() throws {
        // First, before any thread starts: SIGTERM and SIGINT wait in a descriptor from here on.
        guard let signals = SignalWatcher() else {
            FileHandle.standardError.write(Data("weft: cannot route SIGTERM/SIGINT to a signalfd: \(String(cString: strerror(errno)))\n".utf8))
            throw ExitCode(1)
        }
        let environment = ProcessInfo.processInfo.environment
        MallocArenas.apply(environment: environment)     // before the node's threads: see MallocArenas
        var (config, setKeys) = try options.loadNoting()
        WeftLogging.bootstrap(format: config.logFormat, level: LogLevels.parse(config.logLevel) ?? .info)
        let logger = Logger(label: "weft")
        for name in ConfigLoader.unknownEnvironment(environment) {
            logger.warning("environment variable \(name) names no config key; ignored")
        }
        if let spec = environment[FabricLoggingSpec.variable], let parsed = try? FabricLoggingSpec(spec) {
            for warning in parsed.warnings { logger.warning("\(warning)") }
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
        signals.start { signal, count in
            if count == 1 {
                logger.notice("signal \(signal): stopping (a second signal exits at once)")
                StartCommand.notifySystemd("STOPPING=1", logger)
                node.stop()
            } else {
                logger.warning("second signal \(signal): exiting now")
                if let readyFile { unlink(readyFile) }
                Glibc.exit(1)
            }
        }
        // Listeners (peers, operations) are bound and listening once Node.init returns.
        if let readyFile {
            do { try ReadyFile.write(ReadyFile.contents(of: node), to: readyFile) } catch {
                logger.critical("cannot start: --ready-file: \(error)")
                throw ExitCode(64)
            }
        }
        StartCommand.notifySystemd("READY=1\nSTATUS=serving peers on \(node.boundAddress)\nMAINPID=\(getpid())", logger)
        try node.run()
        if let readyFile { unlink(readyFile) }
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
