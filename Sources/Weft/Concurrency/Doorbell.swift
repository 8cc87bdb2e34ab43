import Synchronization

/// A wake-up that is never lost and never doubled, between a consumer that
/// goes idle and a producer that publishes work (a ring push, a flag).
///
/// The consumer **announces** it is going idle, re-checks for work, and only
/// then sleeps (or returns); the producer publishes its work, then **rings**:
/// it gets `true` — and must wake the consumer — only if it saw the
/// announcement and won the exchange that takes it back.
///
/// Both sides store one thing and then load another (the consumer stores the
/// announcement and loads the work; the producer stores the work and loads the
/// announcement): the store-buffering pattern. A sequentially consistent fence
/// on **both** sides, between each side's store and its load, makes at least
/// one of them see the other's store — so either the consumer finds the work
/// or the producer finds the announcement. A fence on one side only is not
/// enough (x86-TSO lets both loads read stale values).
///
/// Used by `EventWaker` (the reactor announcing sleep in `epoll_wait`, the
/// fan ringing through the eventfd) and by `ConsensusFan` (the fan announcing
/// it is idle, the reactor ringing with a `DispatchQueue.async`).
public struct Doorbell: ~Copyable, Sendable {
    /// True while the consumer has announced it is idle and nobody has taken
    /// the announcement back.
    private let announced: Atomic<Bool>

    /// `announced`: the consumer starts idle (the first ring wakes it).
    public init(announced: Bool = false) {
        self.announced = Atomic(announced)
    }

    // MARK: consumer

    /// The consumer is about to go idle; it must look for work once more
    /// after this and before it sleeps.
    @inline(__always)
    public func announce() {
        announced.store(true, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// The consumer is awake after all (it found work, or was woken); a
    /// ring that still arrives costs a spurious wake-up only.
    @inline(__always)
    public func cancel() {
        announced.store(false, ordering: .relaxed)
    }

    /// The consumer found work after announcing: takes the announcement back
    /// if no producer has; false when a producer rang (and so is waking it).
    @inline(__always)
    public func reclaim() -> Bool {
        announced.exchange(false, ordering: .acquiringAndReleasing)
    }

    // MARK: producer

    /// After publishing work: true when the consumer announced it is idle and
    /// this call took the announcement — the caller must wake it (once).
    @inline(__always)
    public func ring() -> Bool {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return announced.load(ordering: .relaxed) && announced.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Whether the consumer is announced idle now (diagnostics and tests).
    public var isAnnounced: Bool { announced.load(ordering: .relaxed) }
}
