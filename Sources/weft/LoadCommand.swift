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
        CHAIN_TRANSACTION and waits for RESPONSE (any consenter). A progress line each second on \
        stderr; a summary at the end (--json: one JSON object on stdout). Exit 1 if nothing was answered.
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
    @Flag(help: "Print one JSON object with the summary on stdout.") var json = false
    @Flag(help: "No progress lines.") var quiet = false
    @Flag(help: "Only connect and hand-shake, then hold the connections idle for the duration.") var idle = false

    func validate() throws {
        guard HostPort(target) != nil else { throw ValidationError("--target: '\(target)' is not host:port") }
        guard connections > 0, connections <= 100_000 else { throw ValidationError("-c must be 1...100000") }
        guard window > 0 else { throw ValidationError("-w must be at least 1") }
        guard size >= 0, size <= 4 << 20 else { throw ValidationError("-s must be 0...4194304") }
        guard duration > 0, duration <= 86_400, warmup >= 0 else { throw ValidationError("-d must be > 0 (and at most a day); --warmup >= 0") }
        guard LoadOptions.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be consensus or tx") }
        if let rate { guard rate > 0 else { throw ValidationError("--rate must be positive") } }
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
        options.idle = idle
        let quiet = self.quiet
        let result = try LoadGenerator(options: options).run { p in
            guard !quiet else { return }
            let line = String(format: "%3ds %@ %10.0f msgs/s  p99 %8.1f us  errors %d  connections %d\n",
                              p.second, p.warmup ? "warmup " : "measure", p.messagesPerSecond, p.p99Micros, p.errors, p.connections)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(LoadSummary.table(result, options: options))
        }
        if idle ? result.connections == 0 : result.measured == 0 { throw ExitCode(1) }
    }
}
