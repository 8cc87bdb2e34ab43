import Synchronization

/// A Prometheus histogram of durations in seconds (cumulative `le` buckets,
/// `_sum`, `_count`). Observed off the reactor (fan, ledger or consenter
/// queues), read by /metrics: one short lock per observation, never on the
/// per-message path of the reactor.
public final class MetricHistogram: Sendable {
    public let name: String
    public let help: String
    /// Upper bounds in seconds, ascending; +Inf is implied.
    public let bounds: [Double]
    private let state: Mutex<State>

    struct State {
        var counts: [Int]   // one per bound, then +Inf (not cumulative)
        var sum = 0.0
        var count = 0
    }

    /// Latencies from 100 µs to 10 s.
    public static let latencyBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init(name: String, help: String, bounds: [Double] = MetricHistogram.latencyBounds) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must ascend")
        self.name = name
        self.help = help
        self.bounds = bounds
        state = Mutex(State(counts: Array(repeating: 0, count: bounds.count + 1)))
    }

    public func observe(seconds: Double) {
        var index = bounds.count
        for (i, bound) in bounds.enumerated() where seconds <= bound { index = i; break }
        state.withLock { s in
            s.counts[index] += 1
            s.sum += seconds
            s.count += 1
        }
    }

    /// Observes the time since `startNanos` (a `DispatchTime.uptimeNanoseconds` or CLOCK_MONOTONIC reading).
    public func observe(sinceNanos startNanos: UInt64, nowNanos: UInt64) {
        observe(seconds: nowNanos >= startNanos ? Double(nowNanos - startNanos) / 1e9 : 0)
    }

    /// (count, sum) so far.
    public var totals: (count: Int, sum: Double) { state.withLock { ($0.count, $0.sum) } }

    /// The histogram in Prometheus text exposition format.
    public func write(to text: inout String) {
        var out = PrometheusText()
        write(to: &out)
        text += out.text
    }

    func write(to out: inout PrometheusText) {
        let s = state.withLock { $0 }
        out.header(name, "histogram", help)
        var cumulative = 0
        for (i, bound) in bounds.enumerated() {
            cumulative += s.counts[i]
            out.sample(name + "_bucket", labels: "le=\"\(bound)\"", String(cumulative))
        }
        out.sample(name + "_bucket", labels: "le=\"+Inf\"", String(s.count))
        out.sample(name + "_sum", String(s.sum))
        out.sample(name + "_count", String(s.count))
    }
}
