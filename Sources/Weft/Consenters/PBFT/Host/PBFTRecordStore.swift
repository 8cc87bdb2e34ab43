/// Where the replica's `PBFTReady.records` are kept across restarts: a port,
/// so the whole-host simulator can lose what was not made durable and choose,
/// on its own clock, when an fsync completes.
///
/// Asynchronous: `submit` hands records over and returns at once with a
/// ticket; they become durable later, in submission order. Whoever built the
/// store calls `PBFTHost.recordsSettled()` on the host's queue once
/// `durableTicket` moved or `failure` was set (the real peer bounces the
/// writer's callback onto the fan queue; the simulator calls it after its
/// simulated fsync). Until then the host holds every message, execution and
/// notice readied after those records (`HeldOutputs`).
protocol PBFTRecordStore: AnyObject {
    /// Hands `records` over, in order (a nil value deletes the key); returns
    /// their ticket: 1, 2, 3… in submission order.
    func submit(_ records: [(key: String, value: [UInt8]?)]) -> UInt64
    /// Every ticket up to this one is durable (0: none yet).
    var durableTicket: UInt64 { get }
    /// Why a write or an fsync failed, once one did: nothing submitted since is ever durable.
    var failure: String? { get }
    /// Shutdown: everything submitted is durable, or has failed, when this returns.
    func finish()
}
