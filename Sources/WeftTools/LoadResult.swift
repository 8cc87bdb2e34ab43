import CWeftLinux
import Foundation
import Glibc
import Histogram
import Synchronization
import Weft

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
