import Foundation

public enum LoadSummary {
    public static func table(_ r: LoadResult, options: LoadOptions) -> String {
        let loop = options.idle ? "idle: hand-shake and hold" : options.rate.map { "open loop at \(Int($0)) msgs/s" } ?? "closed loop, window \(options.window)"
        var rows: [(String, String)] = [
            ("target", "\(options.target) (\(options.mode.rawValue), \(options.connections) connections, \(loop), \(options.payloadSize) B)"),
            ("throughput", String(format: "%.0f msgs/s, %.2f MB/s over %.2f s", r.msgs_per_s, r.mb_per_s, r.duration_s)),
            ("latency p50", String(format: "%.1f us", r.p50_us)),
            ("latency p90", String(format: "%.1f us", r.p90_us)),
            ("latency p99", String(format: "%.1f us", r.p99_us)),
            ("latency p99.9", String(format: "%.1f us", r.p999_us)),
            ("latency max", String(format: "%.1f us", r.max_us)),
            ("sent/received", "\(r.sent) / \(r.received) (\(r.measured) measured)"),
            ("connections", "\(r.connections) of \(options.connections)"),
            ("errors", "\(r.errors)"),
        ]
        if options.mode == .tx {
            let reasons = r.failed_by_reason.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")
            rows.append(("transactions", "\(r.sent) sent, \(r.acknowledged) acknowledged, \(r.failed) failed, \(r.unanswered) unanswered"))
            if !reasons.isEmpty { rows.append(("failed by reason", reasons)) }
            if options.ackedPath != nil { rows.append(("acked file", options.ackedPath!)) }
        }
        if r.reconnects > 0 { rows.append(("reconnects", "\(r.reconnects)")) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
