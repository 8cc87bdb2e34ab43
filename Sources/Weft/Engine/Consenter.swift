import Dispatch

/// A consensus plug-in (Fabric's `consensus.Consenter`). All calls arrive on
/// the fan's serial queue, in the order the messages arrived, so an
/// implementation needs no locks of its own.
public protocol Consenter: ChainHeightSource {
    /// Called once, on the fan queue, before any message.
    func start(_ context: FanContext) throws
    /// A CONSENSUS or CHAIN_TRANSACTION message and the peer that sent it.
    ///
    /// The message is handed over (`consuming`): a consenter that forwards it
    /// (`unicast(message, …)` as its last use) passes the frame on without
    /// the fan thread ever touching the frame's reference count.
    func recvMsg(_ message: consuming Message, from sender: PeerID)
    /// The fan delivered every message it had (a burst ended): a consenter
    /// that batches work per burst — one fsync before its sends, say — does
    /// it here. Still on the fan's queue, before the reactor is woken to write.
    func endOfBurst()
    /// Shutdown: every queued message has been delivered; finish what is
    /// pending (write blocks, answer clients) before returning.
    func stop()
    // `chainHeight`, for DISC_HELLO (any thread), comes from `ChainHeightSource`.
    /// What is wrong now, one short phrase each naming the check (for
    /// example `ledger: write failed: No space left on device`); empty when
    /// healthy. /healthz answers 503 with these (any thread).
    var failedHealthChecks: [String] { get }
    /// The consenter's own metrics, appended to /metrics in Prometheus text
    /// format (called on the reactor thread: read only thread-safe state).
    func writeMetrics(to text: inout String)
}

extension Consenter {
    public func start(_ context: FanContext) throws {}
    public func stop() {}
    public func endOfBurst() {}
    public var chainHeight: UInt64 { 0 }
    public var failedHealthChecks: [String] { [] }
    public func writeMetrics(to text: inout String) {}
}
