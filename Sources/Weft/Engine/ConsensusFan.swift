import Dispatch
import Glibc
import Synchronization

/// The consensus fan: the single consumer of the inbound ring. It runs on its
/// own serial DispatchQueue and hands each message, in arrival order, to the
/// consenter. It is scheduled, not polled: the reactor calls `notify()` once
/// per batch it pushed, and a `queue.async` is issued only when the fan is not
/// already scheduled or running.
final class ConsensusFan: @unchecked Sendable {
    let queue: DispatchQueue
    let inbound: SPSCRing<InboundItem>
    let consenter: Consenter
    private let reactorWaker: EventWaker
    /// Announced while the fan is idle (neither scheduled nor running): the
    /// reactor's ring after a push schedules it.
    private let idle = Doorbell(announced: true)
    /// Set by the reactor when it paused reading (backpressure): the fan wakes
    /// it once the ring is below half.
    let reactorWaitsForRoom = Atomic<Bool>(false)
    /// Messages delivered to the consenter.
    let delivered = Atomic<Int>(0)
    /// Ring to `recvMsg`, for one message in 128 (the reactor reads no clock for the others).
    let deliveryLatency = MetricHistogram(name: "weft_consenter_delivery_duration_seconds",
                                          help: "Time from the inbound ring to the consenter's recvMsg (sampled: 1 message in 128).")

    private let communicator: FanCommunicator
    /// Each connection slot's sender, as introduced by its first message (fan only).
    private let senders: UnsafeMutablePointer<PeerID?>
    private let slotCount: Int

    init(consenter: Consenter, inbound: SPSCRing<InboundItem>, communicator: FanCommunicator, reactorWaker: EventWaker,
         slotCount: Int, label: String) {
        self.consenter = consenter
        self.communicator = communicator
        self.inbound = inbound
        self.reactorWaker = reactorWaker
        self.slotCount = slotCount
        senders = .allocate(capacity: slotCount)
        senders.initialize(repeating: nil, count: slotCount)
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    deinit {
        senders.deinitialize(count: slotCount)
        senders.deallocate()
    }

    /// Reactor: messages were pushed.
    @inline(__always)
    func notify() {
        if idle.ring() { queue.async { self.drain() } }
    }

    /// Hands the message over to the consenter (moved, not copied), with its sender.
    @inline(__always)
    private func deliver(_ item: consuming InboundItem) {
        let slot = Int(item.handle.slot)
        let message = item.message, introducing = item.introducing, sampledAt = item.sampledAt
        _ = consume item
        if let introducing { senders[slot] = introducing }
        if sampledAt != 0 { deliveryLatency.observe(sinceNanos: sampledAt, nowNanos: MonotonicClock.now()) }
        consenter.recvMsg(consume message, from: senders[slot]!)   // introduced by an earlier item (FIFO)
    }

    private func drain() {
        let half = inbound.capacity / 2
        while true {
            var count = 0
            communicator.inBatch = true
            while let item = inbound.pop() {
                deliver(consume item)
                count += 1
                if count & 63 == 0 {                                 // a long batch: let the reactor write,
                    reactorWaker.wake()                              // and keep the count current
                    delivered.add(64, ordering: .relaxed)
                }
                if reactorWaitsForRoom.load(ordering: .relaxed), inbound.count < half,
                   reactorWaitsForRoom.exchange(false, ordering: .acquiringAndReleasing) {
                    reactorWaker.forceWake()
                }
            }
            if count > 0 { consenter.endOfBurst() }
            communicator.inBatch = false
            if count > 0 {
                delivered.add(count & 63, ordering: .relaxed)
                reactorWaker.wake()                                  // one wake-up per batch
            }
            idle.announce()
            // A push that raced with the announcement either rang (and
            // scheduled another drain) or is visible now: take it over,
            // unless its ring already took the announcement.
            if inbound.isEmpty || !idle.reclaim() { return }
        }
    }
}
