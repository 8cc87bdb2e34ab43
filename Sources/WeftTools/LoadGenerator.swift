import CWeftLinux
import Foundation
import Glibc
import Histogram
import Synchronization
import Weft

/// What `weft load` runs.
public struct LoadOptions: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// CONSENSUS frames, echoed by the `echo` consenter.
        case consensus
        /// CHAIN_TRANSACTION frames answered with RESPONSE (any consenter).
        case tx
    }

    public var target: HostPort
    public var connections = 16
    /// Closed loop: messages in flight per connection.
    public var window = 8
    /// Open loop: total messages per second (nil = closed loop).
    public var rate: Double?
    public var payloadSize = 128
    public var durationSeconds = 5.0
    public var warmupSeconds = 1.0
    public var mode = Mode.consensus
    public var threads = 1
    public var idPrefix = "load"
    /// In every txid (`<prefix>-<nonce>-<connection>-<n>`), so that two runs
    /// never send the same txid: a ledger that refuses duplicates would turn
    /// the second run's away.
    public var runNonce = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    /// Appended to the names (`<prefix>-<n>.<domain>`), so one TLS client
    /// certificate with a wildcard SAN (`*.<domain>`) covers every connection.
    public var idDomain = ""
    /// TLS 1.3 with this client certificate, key and root CA (the peer runs
    /// with peer.tls.enabled); nil = plain TCP.
    public var tls: PeerConfig.TLS?
    /// Hold the connections after the handshake and send nothing (memory per idle connection).
    public var idle = false
    /// Tx mode: every acknowledged txid is appended to this file, one a line,
    /// written as each read's answers are handled (no buffering beyond that).
    public var ackedPath: String?
    /// A connection that fails (or cannot be made) is opened again after
    /// `reconnectDelaySeconds`, until the end; its txids keep counting on.
    public var reconnect = false
    public var reconnectDelaySeconds = 0.5

    public init(target: HostPort) { self.target = target }

    /// The DISC_HELLO name of connection `id`.
    public func peerName(_ id: Int) -> String { idDomain.isEmpty ? "\(idPrefix)-\(id)" : "\(idPrefix)-\(id).\(idDomain)" }
}

/// The summary, with the keys of PROTOCOL-level tools (and the C loadgen).
public struct LoadResult: Codable, Sendable {
    public var msgs_per_s: Double
    public var mb_per_s: Double
    public var p50_us: Double
    public var p90_us: Double
    public var p99_us: Double
    public var p999_us: Double
    public var max_us: Double
    public var sent: Int
    public var received: Int
    public var errors: Int
    public var connections: Int
    public var measured: Int
    public var duration_s: Double
    /// Tx mode: answered SUCCESS (= received).
    public var acknowledged: Int = 0
    /// Answered FAILURE, in all and by reason (the text after "<txid>: ").
    public var failed: Int = 0
    public var failed_by_reason: [String: Int] = [:]
    /// Sent, never answered (in flight at the end, or on a connection that died).
    public var unanswered: Int = 0
    /// Connections opened again after a failure (--reconnect).
    public var reconnects: Int = 0
}

/// Counters shared with the progress reporter.
final class LoadCounters: Sendable {
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let connections = Atomic<Int>(0)
    let alive = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
}

/// The --acked file: whole lines appended with one write(2) each batch (O_APPEND,
/// so the threads' batches never interleave within a line).
final class AckedFile: Sendable {
    let fd: Int32
    let path: String
    let failed = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HTTPGet.Failure(description: "--acked: cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { Glibc.close(fd) }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if !failed.exchange(true, ordering: .relaxed) {
                        FileHandle.standardError.write(Data("load: --acked \(path): write failed: \(String(cString: strerror(errno)))\n".utf8))
                    }
                    return
                }
                offset += n
            }
        }
    }
}

/// A closed- or open-loop load generator over its own epoll loops (one per
/// thread). Latency is measured from the send time carried in each message,
/// or, in open loop, from the time the message was due, so a stall shows up
/// in the percentiles (no coordinated omission).
public final class LoadGenerator: @unchecked Sendable {
    public let options: LoadOptions
    let counters = LoadCounters()

    public init(options: LoadOptions) { self.options = options }

    public struct Progress: Sendable {
        public let second: Int
        public let messagesPerSecond: Double
        public let p99Micros: Double
        public let errors: Int
        public let connections: Int
        public let warmup: Bool
    }

    /// Runs to the end of warmup + duration; calls `progress` about once a second.
    public func run(progress: @escaping (Progress) -> Void) throws -> LoadResult {
        let addresses = try options.target.resolve()
        guard let address = addresses.first else { throw HTTPGet.Failure(description: "cannot resolve \(options.target)") }
        let start = MonotonicClock.now()
        let measureFrom = start + UInt64(options.warmupSeconds * 1e9)
        let end = measureFrom + UInt64(options.durationSeconds * 1e9)
        // Checked before any connection: files, key, chain, and that the
        // certificate carries the names the connections will claim.
        let tls = try options.tls.map { try TLSContext($0, expectedName: options.peerName(0), nameOrigin: "--id-prefix/--id-domain") }
        let acked = try options.ackedPath.map { try AckedFile(path: $0) }
        let threadCount = max(1, min(options.threads, options.connections))
        var workers: [LoadWorker] = []
        for t in 0..<threadCount {
            let ids = Array(stride(from: t, to: options.connections, by: threadCount))
            workers.append(try LoadWorker(options: options, tls: tls, address: address, connectionIDs: ids, counters: counters,
                                          acked: acked, start: start, measureFrom: measureFrom, end: end))
        }
        let group = DispatchGroup()
        for worker in workers {
            let thread = Thread { worker.run(); group.leave() }
            group.enter()
            thread.start()
        }
        var second = 0
        var lastReceived = 0
        while group.wait(timeout: .now() + 1) == .timedOut {
            second += 1
            let received = counters.received.load(ordering: .relaxed)
            let p99 = workers.map { Double($0.progressP99Nanos.load(ordering: .relaxed)) / 1000 }.max() ?? 0
            progress(Progress(second: second, messagesPerSecond: Double(received - lastReceived), p99Micros: p99,
                              errors: counters.errors.load(ordering: .relaxed),
                              connections: counters.alive.load(ordering: .relaxed),
                              warmup: MonotonicClock.now() < measureFrom))
            lastReceived = received
        }
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        var measuredBytes = 0
        var lastMeasured = measureFrom
        var reasons: [String: Int] = [:]
        for worker in workers {
            reasons.merge(worker.failedReasons) { $0 + $1 }
            histogram.add(worker.histogram)
            measuredBytes += worker.measuredBytes
            lastMeasured = max(lastMeasured, worker.lastReceiveAt)
        }
        // The window ends at its planned end, or earlier if every connection died.
        let finishedAt = MonotonicClock.now()
        let windowEnd = finishedAt >= end ? end : min(end, max(lastMeasured, measureFrom + 1))
        let seconds = Double(windowEnd - measureFrom) / 1e9
        let measured = Int(histogram.totalCount)
        func micros(_ p: Double) -> Double { measured == 0 ? 0 : Double(histogram.valueAtPercentile(p)) / 1000 }
        let sent = counters.sent.load(ordering: .relaxed), received = counters.received.load(ordering: .relaxed)
        let failed = counters.failed.load(ordering: .relaxed)
        var result = LoadResult(
            msgs_per_s: Double(measured) / seconds, mb_per_s: Double(measuredBytes) / seconds / 1e6,
            p50_us: micros(50), p90_us: micros(90), p99_us: micros(99), p999_us: micros(99.9),
            max_us: measured == 0 ? 0 : Double(histogram.max) / 1000,
            sent: counters.sent.load(ordering: .relaxed), received: counters.received.load(ordering: .relaxed),
            errors: counters.errors.load(ordering: .relaxed), connections: counters.connections.load(ordering: .relaxed),
            measured: measured, duration_s: seconds)
        result.acknowledged = options.mode == .tx ? received : 0
        result.failed = failed
        result.failed_by_reason = reasons
        result.unanswered = max(0, sent - received - failed)
        result.reconnects = counters.reconnects.load(ordering: .relaxed)
        return result
    }
}
