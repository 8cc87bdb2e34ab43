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
