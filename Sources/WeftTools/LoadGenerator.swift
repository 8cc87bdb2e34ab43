import CWeftLinux
import Foundation
import Glibc
import Histogram
import Synchronization
import Weft

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
