import Foundation
import Glibc

/// A child process with its output captured into one log, and bounded waits
/// on it: for a log line, for its exit. Shared by the peer processes and
/// the first-run tests' unprivileged runs.
final class CapturedProcess: @unchecked Sendable {   // the log is guarded by lock
    let process = Process()
    /// Names the process in failures.
    let label: String
    private let pipe = Pipe()
    private let lock = NSLock()
    private var text = ""
    private var outputEnded = false

    /// Starts `executable`; stderr is captured, and stdout too if `captureStdout`.
    init(_ executable: String, _ arguments: [String], environment: [String: String], label: String,
         captureStdout: Bool = true) throws {
        self.label = label
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardError = pipe
        process.standardOutput = captureStdout ? pipe : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            if data.isEmpty { self.outputEnded = true } else { self.text += String(decoding: data, as: UTF8.self) }
            self.lock.unlock()
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    var log: String { lock.lock(); defer { lock.unlock() }; return text }

    private var hasOutputEnded: Bool { lock.lock(); defer { lock.unlock() }; return outputEnded }

    /// The first log line containing `needle`, waiting for it.
    @discardableResult
    func waitForLog(containing needle: String, timeout: Double = 10) throws -> String {
        let timeout = scaled(timeout)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = firstLine(containing: needle) { return line }
            if !process.isRunning {
                waitForEndOfOutput()
                if let line = firstLine(containing: needle) { return line }
                throw TestFailure("\(label) exited (\(process.terminationStatus)) before logging '\(needle)':\n\(log)")
            }
            usleep(20_000)
        }
        throw TestFailure("\(label) did not log '\(needle)' within \(timeout) s:\n\(log.suffix(3000))")
    }

    private func firstLine(containing needle: String) -> String? {
        log.split(separator: "\n").first { $0.contains(needle) }.map(String.init)
    }

    /// The exit status, once the process has exited and its output is all in the log.
    func waitForExit(timeout: Double) throws -> Int32 {
        let timeout = scaled(timeout)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { throw TestFailure("\(label) still running after \(timeout) s:\n\(log.suffix(3000))") }
        waitForEndOfOutput()
        return process.terminationStatus
    }

    /// SIGTERM, then the exit status.
    func terminate(timeout: Double = 15) throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return try waitForExit(timeout: timeout)
    }

    /// The pipe reaches end of file once every writer is gone (the process,
    /// and anything it left running with the pipe): bounded, since a
    /// grandchild could hold it open.
    private func waitForEndOfOutput() {
        let deadline = Date().addingTimeInterval(2)
        while !hasOutputEnded && Date() < deadline { usleep(5_000) }
    }
}
