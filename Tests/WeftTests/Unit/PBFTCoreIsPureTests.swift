import Foundation
import XCTest

/// PBFT's Core/ is a deterministic state machine: the same inputs give the same
/// outputs, which is what lets one simulator seed replay one bug. Nothing in it
/// may reach a clock, a thread, a lock, randomness, a file, a socket or a log.
final class PBFTCoreIsPureTests: XCTestCase {
    /// What the core must not name, and why.
    static let forbidden: [(pattern: String, why: String)] = [
        (#"^\s*import\s+(Dispatch|Glibc|CWeftLinux|COpenSSL|Synchronization|Logging)\b"#, "a system, threading or logging module"),
        (#"\bDispatch[A-Z]\w*"#, "Dispatch (threads, timers)"),
        (#"\b(Date|UUID)\("#, "the wall clock or randomness"),
        (#"\b(clock_gettime|gettimeofday|time\(nil\)|MonotonicClock)\b"#, "a clock"),
        (#"\.random\(|\bSystemRandomNumberGenerator\b|\barc4random"#, "randomness"),
        (#"\b(FileManager|FileHandle|fopen|fsync|fdatasync|pread|pwrite)\b|contentsOfFile|\bopen\("#, "a file"),
        (#"\b(socket|connect|accept|recv|sendmsg)\("#, "a socket"),
        (#"\b(Thread|ProcessInfo|Mutex|Atomic|NSLock)\b"#, "threads, locks or the process"),
        (#"\bLogger\b|\bprint\("#, "logging (the host logs what the replica reports)"),
    ]

    static func violations(in source: String, file: String) -> [String] {
        var found: [String] = []
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.components(separatedBy: "//").first ?? ""
            for rule in forbidden where code.range(of: rule.pattern, options: .regularExpression) != nil {
                found.append("\(file):\(number + 1): \(rule.why): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    func testTheCoreReachesNoClockThreadFileOrSocket() throws {
        let core = RepoRoot.url
            .appendingPathComponent("Sources/Weft/Consenters/PBFT/Core")
        let files = try FileManager.default.contentsOfDirectory(atPath: core.path).filter { $0.hasSuffix(".swift") }.sorted()
        XCTAssertGreaterThan(files.count, 5, "Core/ holds the replica's files")
        var found: [String] = []
        for file in files {
            found += Self.violations(in: try String(contentsOfFile: core.appendingPathComponent(file).path, encoding: .utf8), file: file)
        }
        XCTAssertEqual(found, [], "PBFT Core/ must stay pure:\n" + found.joined(separator: "\n"))
    }

    /// The checker itself finds what it is for (and not the words it must allow).
    func testTheCheckerCatchesEachKindOfImpurity() {
        let planted = """
        import Dispatch
        let t = DispatchTime.now()
        var ts = timespec(); clock_gettime(CLOCK_REALTIME, &ts)
        let r = Int.random(in: 0...9)
        let d = FileManager.default.contents(atPath: "x")
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        let m = Mutex(0)
        logger.info("x"); let l = Logger(label: "x")
        """
        XCTAssertEqual(Self.violations(in: planted, file: "planted").count, 8)
        let allowed = """
        private(set) var now: UInt64 = 0   // logical time: DispatchTime is the host's
        func tick() { now += 1 }
        let digest = Data(bytes).base64EncodedString()
        """
        XCTAssertEqual(Self.violations(in: allowed, file: "allowed"), [])
    }
}
