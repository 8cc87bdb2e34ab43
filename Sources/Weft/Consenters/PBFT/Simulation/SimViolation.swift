/// One property broken in one run: which, when (simulated ms) and how.
public struct SimViolation: Sendable, CustomStringConvertible {
    public let property: SimProperty
    public let atMillis: UInt64
    public let detail: String

    public var description: String { "\(property.rawValue) at \(atMillis / 1000).\(String(atMillis % 1000 + 1000).dropFirst()) s: \(detail)" }
}
