/// What one seed's run found.
public struct SimulationReport: Sendable {
    public let seed: UInt64
    public let options: SimulationOptions
    /// The seed's scenario (knobs, rates, the byzantine replica and its lies), one line.
    public let scenario: String
    public let ticks: Int
    /// At most three per property; `violationCount` counts them all.
    public let violations: [SimViolation]
    public let violationCount: Int
    /// The last events (always), and every event when `options.trace` was set.
    public let traceTail: [String]
    public let fullTrace: [String]
    /// Durable height of each replica at the end, clients answered SUCCESS of all, messages delivered.
    public let heights: [Int]
    public let acknowledged: Int
    public let submitted: Int
    public let delivered: Int
    public let faults: Int

    public var passed: Bool { violations.isEmpty }

    /// One line: the seed and what happened.
    public var summary: String {
        let verdict = passed ? "ok" : "\(violationCount) violation\(violationCount == 1 ? "" : "s") of \(Set(violations.map(\.property.rawValue)).sorted().joined(separator: ", "))"
        return "seed \(seed): \(verdict); heights \(heights.map(String.init).joined(separator: "/")), \(acknowledged)/\(submitted) acknowledged, \(faults) faults, \(delivered) messages"
    }
}
