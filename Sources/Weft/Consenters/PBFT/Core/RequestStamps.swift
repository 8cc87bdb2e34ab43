/// Per origin replica, the latest request timestamp executed: part of the
/// replicated state, like the chain itself. A request not after its origin's
/// latest executed timestamp is *stale*: it is never executed (it, or a later
/// request of its origin, already was), so a replica refuses it into its pool,
/// and execution skips it wherever a batch still carries it — the same on every
/// correct replica at the same sequence, since every one applies the same
/// batches in the same order from the same stamps. Each block's consensus
/// metadata carries the stamps after it, so a restart or a state transfer
/// resumes from exactly the stamps of the block it ends at.
struct RequestStamps: Equatable, Sendable {
    struct Stamp: Equatable, Sendable {
        let seconds: Int64
        let nanos: Int32
    }

    private var latest: [UInt64: Stamp] = [:]

    init() {}

    /// From the stamps of a block's metadata, indexed by replica id (an unset one: none executed).
    init(byReplica stamps: [Stamp]) {
        for (replica, stamp) in stamps.enumerated() where stamp != Stamp(seconds: 0, nanos: 0) {
            latest[UInt64(replica)] = stamp
        }
    }

    /// The latest request of `replica` executed, if any.
    func latest(of replica: UInt64) -> Stamp? { latest[replica] }

    /// Not after its origin's latest executed request: never to be executed.
    func isStale(_ key: RequestKey) -> Bool {
        guard let last = latest[key.replica] else { return false }
        return key.timestampNotAfter(last.seconds, last.nanos)
    }

    /// A request executed: its origin's stamp moves up to it. False if it was stale.
    @discardableResult
    mutating func advance(_ key: RequestKey) -> Bool {
        guard !isStale(key) else { return false }
        latest[key.replica] = Stamp(seconds: key.seconds, nanos: key.nanos)
        return true
    }

    /// Indexed by replica id, up to the highest with a stamp (for a block's metadata).
    var byReplica: [Stamp] {
        guard let top = latest.keys.max() else { return [] }
        return (0...top).map { latest[$0] ?? Stamp(seconds: 0, nanos: 0) }
    }
}
