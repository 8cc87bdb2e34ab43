/// Where executed blocks go and are served from, as the host sees the durable
/// ledger: a port, so the whole-host simulator can put a disk of its own
/// behind it (latency, lost unsynced writes, a full disk).
protocol PBFTLedger: AnyObject {
    /// Blocks known to be durable (any thread).
    var durableHeight: UInt64 { get }
    /// Appends the next block. Its outcome comes later, in append order, from `takeOutcomes()`.
    func append(_ bytes: [UInt8])
    /// The outcomes of appends settled since the last call (durable, or failed), in append order.
    func takeOutcomes() -> [Result<Void, Error>]
    /// The SYNC_BLOCKS answer to a SYNC_GET_BLOCKS payload, from durable blocks; nil if it does not decode.
    func answerBlockRequest(_ payload: [UInt8]) -> Message?
    /// Shutdown: everything appended is written and synced (or has failed) when this returns.
    func finish()
}
