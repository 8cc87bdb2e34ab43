import ArgumentParser
import Foundation
import Weft
import WeftTools

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load-test a peer over the wire protocol.",
        discussion: """
        Opens -c connections to --target, each a NON_VALIDATOR peer (hello first), and keeps -w \
        messages in flight per connection (closed loop), or sends --rate messages per second in \
        all (open loop: latency counts from when each message was due, so stalls are not hidden). \
        Mode consensus sends CONSENSUS frames to the echo consenter; mode tx sends \
        CHAIN_TRANSACTION and waits for RESPONSE (any consenter). With --tls-cert, --tls-key and \
        --tls-root-cert every connection speaks TLS 1.3 (for a peer with peer.tls.enabled); the \
        certificate must carry each connection's name, e.g. gen-certs.sh's load.pem (*.load.weft) \
        with --id-domain load.weft. A progress line each second on \
        stderr; a summary at the end (--json: one JSON object on stdout). Exit 1 if nothing was answered. \
        In tx mode the summary counts transactions sent, acknowledged (SUCCESS), failed (FAILURE, by the \
        reason after "<txid>: ") and unanswered; --acked FILE writes each acknowledged txid to FILE, one \
        a line, as its answer is read (no buffering beyond one read's answers). Txids are \
        <id-prefix>-<run nonce>-<connection>-<n>, the nonce random per run, so two runs never repeat one. \
        --reconnect opens a connection that failed again (every 0.5 s until the end), its txids going on \
        from where they were: for load that must ride through a validator's crash and restart.
        
        """)

    @Option(help: "The peer, host:port.") var target = "127.0.0.1:7051"
    @Option(name: .shortAndLong, help: "Connections.") var connections = 16
    @Option(name: [.customShort("w"), .long], help: "Messages in flight per connection (closed loop).") var window = 8
    @Option(help: "Total messages per second (open loop); omit for closed loop.") var rate: Double?
    @Option(name: [.customShort("s"), .long], help: "Payload bytes per message (at least 16 in consensus mode).") var size = 128
    @Option(name: [.customShort("d"), .long], help: "Measured seconds.") var duration = 5.0
    @Option(help: "Seconds before measuring.") var warmup = 1.0
    @Option(help: "consensus (against the echo consenter) or tx (CHAIN_TRANSACTION -> RESPONSE).") var mode = "consensus"
    @Option(name: [.customShort("t"), .long], help: "Client threads.") var threads = 1
    @Option(name: .customLong("id-prefix"), help: "Peer names are <prefix>-<n>.") var idPrefix = "load"
    @Option(name: .customLong("id-domain"), help: "Peer names are <prefix>-<n>.<domain> (TLS: one wildcard certificate *.<domain> covers all).") var idDomain = ""
    @Option(name: .customLong("tls-cert"), help: "TLS 1.3 with this client certificate (PEM); needs --tls-key and --tls-root-cert.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("tls-root-cert"), help: "PEM CA the peer's certificate must chain to.") var tlsRootCert: String?
    @Flag(help: "Print one JSON object with the summary on stdout.") var json = false
    @Flag(help: "No progress lines.") var quiet = false
    @Flag(help: "Only connect and hand-shake, then hold the connections idle for the duration.") var idle = false
    @Option(help: "Tx mode: append every acknowledged txid to this file, one a line, as it arrives.") var acked: String?
    @Flag(help: "Open a connection that failed or could not be made again, every 0.5 s until the end.") var reconnect = false

    func validate() throws {
        guard HostPort(target) != nil else { throw ValidationError("--target: '\(target)' is not host:port") }
        guard connections > 0, connections <= 100_000 else { throw ValidationError("-c must be 1...100000") }
        guard window > 0 else { throw ValidationError("-w must be at least 1") }
        guard size >= 0, size <= 4 << 20 else { throw ValidationError("-s must be 0...4194304") }
        guard duration > 0, duration <= 86_400, warmup >= 0 else { throw ValidationError("-d must be > 0 (and at most a day); --warmup >= 0") }
        guard LoadOptions.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be consensus or tx") }
        if let rate { guard rate > 0 else { throw ValidationError("--rate must be positive") } }
        guard acked == nil || mode == "tx" else { throw ValidationError("--acked needs --mode tx") }
        let tlsFlags = [tlsCert, tlsKey, tlsRootCert].compactMap { $0 }.count
        guard tlsFlags == 0 || tlsFlags == 3 else { throw ValidationError("TLS needs all three of --tls-cert, --tls-key and --tls-root-cert") }
    }

    func run() throws {
        var options = LoadOptions(target: HostPort(target)!)
        options.connections = connections
        options.window = window
        options.rate = rate
        options.payloadSize = size
        options.durationSeconds = duration
        options.warmupSeconds = warmup
        options.mode = LoadOptions.Mode(rawValue: mode)!
        options.threads = threads
        options.idPrefix = idPrefix
        options.idDomain = idDomain
        if let tlsCert, let tlsKey, let tlsRootCert {
            options.tls = PeerConfig.TLS(certFile: tlsCert, keyFile: tlsKey, rootCertFile: tlsRootCert)
        }
        options.idle = idle
        options.ackedPath = acked
        options.reconnect = reconnect
        let quiet = self.quiet
        let generator = LoadGenerator(options: options)
        let result: LoadResult
        do {
            result = try generator.run(progress: { p in
                guard !quiet else { return }
                let line = String(format: "%3ds %@ %10.0f msgs/s  p99 %8.1f us  errors %d  connections %d\n",
                                  p.second, p.warmup ? "warmup " : "measure", p.messagesPerSecond, p.p99Micros, p.errors, p.connections)
                FileHandle.standardError.write(Data(line.utf8))
            })
        } catch let error as ConfigError {
            // The TLS files are checked as a peer checks its own: name the flag.
            let flags = ["peer.tls.cert.file": "--tls-cert", "peer.tls.key.file": "--tls-key", "peer.tls.rootcert.file": "--tls-root-cert"]
            throw ValidationError("\(flags[error.key] ?? error.key): \(error.reason)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(LoadSummary.table(result, options: options))
        }
        if idle ? result.connections == 0 : (result.measured == 0 && result.received == 0) { throw ExitCode(1) }
    }
}
