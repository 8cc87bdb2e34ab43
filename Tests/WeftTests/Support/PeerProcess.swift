import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// A `weft node start` child process on 127.0.0.1 with free ports, its own
/// data directory, and its log captured.
final class PeerProcess: @unchecked Sendable {   // immutable but for the addresses, set before it is shared
    private let child: CapturedProcess
    var process: Process { child.process }
    let name: String
    let dataDir: String
    private(set) var listen: HostPort!
    private(set) var ops: HostPort!
    /// The REST API's address (nil when off).
    private(set) var rest: HostPort?

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["WEFT_BIN"] { return path }
        // The test bundle sits next to the products: .build/<triple>/debug/weftPackageTests.xctest
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? Bundle.main.bundlePath)
        var dir = bundle.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("weft").path) {
            dir = URL(fileURLWithPath: Bundle.main.bundlePath)
        }
        return dir.appendingPathComponent("weft").path
    }

    /// Starts a peer and waits until it logged its addresses.
    init(name: String = "vp0", dataDir: String? = nil, listenPort: UInt16 = 0, settings: [String: String] = [:],
         environment: [String: String] = [:], fileLimit: Int? = nil, fileSizeLimitBlocks: Int? = nil,
         consensus: String = "echo", waitUntilStarted: Bool = true) throws {
        self.name = name
        self.dataDir = dataDir ?? TestScratch.path("weft-test-\(name)")
        var executable = PeerProcess.binary
        var args = ["node", "start", "--peer-id", name, "--listen", "127.0.0.1:\(listenPort)",
                    "--ops-listen", "127.0.0.1:0", "--data-dir", self.dataDir, "--log-level", "info",
                    "--consensus", consensus]
        // A REST port of its own (the default, 7050, is one per host).
        let settings = settings.merging(["rest.address": "127.0.0.1:0"]) { mine, _ in mine }
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) { args += ["--set", "\(key)=\(value)"] }
        if fileLimit != nil || fileSizeLimitBlocks != nil {
            // A descriptor limit, or a file size limit (writes past it fail with
            // EFBIG, SIGXFSZ ignored), of its own, through the shell's ulimit.
            var setup: [String] = []
            if let fileLimit { setup.append("ulimit -n \(fileLimit)") }
            if let fileSizeLimitBlocks { setup += ["trap '' XFSZ", "ulimit -f \(fileSizeLimitBlocks)"] }
            executable = "/bin/sh"
            args = ["-c", (setup + ["exec \"$0\" \"$@\""]).joined(separator: " && "), PeerProcess.binary] + args
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CORE_") && $0.key != "FABRIC_CFG_PATH" }
        env.merge(environment) { $1 }
        child = try CapturedProcess(executable, args, environment: env, label: "peer \(name)", captureStdout: false)
        if waitUntilStarted { try waitStarted() }
    }

    /// Waits for the start-up line and reads the bound addresses from it.
    func waitStarted() throws {
        let started = try waitForLog(containing: "peer started", timeout: 20)
        listen = PeerProcess.field("listen", in: started).flatMap { HostPort($0) }
        ops = PeerProcess.field("operations", in: started).flatMap { HostPort($0) }
        rest = PeerProcess.field("rest", in: started).flatMap { HostPort($0) }
        guard listen != nil, ops != nil else { throw TestFailure("cannot read addresses from: \(started)") }
    }

    var log: String { child.log }

    /// The first log line containing `text`, waiting for it.
    @discardableResult
    func waitForLog(containing text: String, timeout: Double = 10) throws -> String {
        try child.waitForLog(containing: text, timeout: timeout)
    }

    static func field(_ key: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// The exit status, once it has exited and its log is all read.
    func waitForExit(timeout: Double) throws -> Int32 { try child.waitForExit(timeout: timeout) }

    /// Sends SIGTERM and waits for the exit status.
    func terminate(timeout: Double = 15) throws -> Int32 { try child.terminate(timeout: timeout) }

    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// One Prometheus sample from /metrics (`name` may include `{labels}`).
    func metric(_ name: String) throws -> Int {
        let text = try HTTPGet.fetch(ops, path: "/metrics")
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }),
              let value = Int(line.split(separator: " ").last ?? "") else {
            throw TestFailure("no metric \(name)")
        }
        return value
    }

    /// CPU seconds (user + system) the process has used.
    func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)     // utime, stime
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Names of the established peers, from /peers.
    func peerNames() throws -> [String] {
        let body = try HTTPGet.fetch(ops, path: "/peers")
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return ((object?["peers"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.sorted()
    }
}

/// How much longer the bounded waits of the test support may take:
/// WEFT_TEST_TIME_SCALE (a number, default 1). scripts/dev/sanitize.sh sets it,
/// since instrumented code (the tests and the peers they start) is several
/// times slower; the normal suite keeps its bounds.
let testTimeScale: Double = {
    guard let text = ProcessInfo.processInfo.environment["WEFT_TEST_TIME_SCALE"], let scale = Double(text), scale >= 1 else { return 1 }
    return scale
}()

/// `seconds` stretched by `testTimeScale`.
func scaled(_ seconds: Double) -> Double { seconds * testTimeScale }

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Double = 10, _ what: String, _ condition: () throws -> Bool) throws {
    let timeout = scaled(timeout)
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? condition()) == true { return }
        usleep(50_000)
    }
    if try condition() { return }
    throw TestFailure("timed out after \(timeout) s waiting for: \(what)")
}

/// Runs a program to its end; its exit status and output (stdout and stderr).
/// With `stdin`, that text is its input (then EOF); else it has none of ours.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                stdin: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// Runs the weft binary with `arguments`.
func runWeft(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try runProcess(PeerProcess.binary, arguments)
}
