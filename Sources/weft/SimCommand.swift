import ArgumentParser
import Foundation
import Glibc
import Weft

/// `weft sim`: the whole-host deterministic simulator over a range of seeds.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the whole-host PBFT simulator over a range of seeds and check its properties.",
        discussion: """
            Each seed builds N real PBFT hosts over a simulated clock, disk and network, injects faults \
            (crashes at any step, power losses, full and wiped disks, partitions, loss, duplication, \
            reordering, drops by message type, link blips, clock steps) and, on some seeds, a byzantine \
            replica; then the faults stop and every correct replica must converge and every client be \
            answered. Agreement, validity, client integrity, durability, liveness, non-equivocation and \
            checkpoint honesty are checked (docs/FAULTS.md). A failing seed prints its violations, the \
            command that replays it, and the tail of its trace. Exits 1 if any seed violates a property.
            """)

    @Option(help: "Seeds to run, FIRST-LAST (or one seed).")
    var seeds = "1-10"
    @Option(help: "Replicas (f = (N-1)/3).")
    var replicas = 4
    @Option(help: "Ticks (10 ms of simulated time) with faults and client load, per seed.")
    var steps = 2_000
    @Option(help: "Ticks after the faults stop, by which every replica must converge and every client be answered.")
    var quietTicks = 3_000
    @Flag(help: "Print every seed's whole trace (every message delivered), not only a failing seed's tail.")
    var trace = false
    @Flag(help: "One line per seed, passed ones included.")
    var verbose = false
    @Flag(help: "Unsigned VIEW-CHANGEs, as a cluster without TLS runs (default: signed, as with TLS; PROTOCOL.md section 8).")
    var unsigned = false

    func validate() throws {
        guard seedRange != nil else { throw ValidationError("--seeds must be FIRST-LAST or one number, not '\(seeds)'") }
        guard replicas >= 4 else { throw ValidationError("--replicas must be at least 4 (N >= 3f+1 with f >= 1), not \(replicas)") }
        guard steps > 0, quietTicks > 0 else { throw ValidationError("--steps and --quiet-ticks must be positive") }
    }

    var seedRange: ClosedRange<UInt64>? {
        let parts = seeds.split(separator: "-", omittingEmptySubsequences: false).map { UInt64($0) }
        if parts.count == 1, let only = parts[0] { return only...only }
        guard parts.count == 2, let first = parts[0], let last = parts[1], first <= last else { return nil }
        return first...last
    }

    func run() throws {
        Self.makeHashingDeterministic()
        let options = SimulationOptions(replicas: replicas, steps: steps, quietTicks: quietTicks, trace: trace, unsigned: unsigned)
        var runs = 0, ticks = 0, violations = 0, failing: [UInt64] = []
        let started = Date()
        var lastProgress = started
        for seed in seedRange! {
            let report = Simulation.run(seed: seed, options: options)
            runs += 1
            ticks += report.ticks
            violations += report.violationCount
            if trace { for line in report.fullTrace { print(line) } }
            if !report.passed {
                failing.append(seed)
                print(report.summary)
                print("  scenario: \(report.scenario)")
                for violation in report.violations { print("  \(violation)") }
                print("  replay: \(options.replayCommand(seed: seed))")
                if !trace {
                    print("  trace tail:")
                    for line in report.traceTail.suffix(60) { print("    \(line)") }
                }
            } else if verbose {
                print(report.summary)
            }
            if Date().timeIntervalSince(lastProgress) >= 10 {
                lastProgress = Date()
                FileHandle.standardError.write(Data("weft sim: \(runs) seeds done (up to \(seed)), \(failing.count) failing, \(Int(Date().timeIntervalSince(started))) s\n".utf8))
            }
        }
        let seconds = Date().timeIntervalSince(started)
        if !failing.isEmpty { print("failing seeds: \(failing.map(String.init).joined(separator: " "))") }
        print(String(format: "wall %.1f s", seconds))
        print("seeds \(runs), steps \(ticks), violations \(violations)")
        if violations > 0 { throw ExitCode(1) }
    }

    /// Swift seeds its hashing per process: a Set's order could differ between a
    /// sweep and the replay of one of its seeds. Run again with it fixed.
    static func makeHashingDeterministic() {
        guard ProcessInfo.processInfo.environment["SWIFT_DETERMINISTIC_HASHING"] == nil else { return }
        setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
        let arguments = CommandLine.arguments
        var argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // exec failed: carry on (a replay may then differ in hash order).
    }
}
