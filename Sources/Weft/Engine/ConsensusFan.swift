import Dispatch
import Glibc
import Synchronization

/// A consensus message on its way to the consenter.
///
/// The sender's `PeerID` (whose name may be a heap string) travels only with
/// a connection's first message; the fan keeps it by slot. Later items carry
/// just the handle, so the two threads do not share a reference count per
/// message. The ring is FIFO, so the introduction always arrives first.
struct InboundItem: Sendable {
    let message: Message
    let handle: ConnectionHandle
    /// The sender in full, on the connection's first message only.
    let introducing: PeerID?
    /// A sampled message's push time (MonotonicClock), else 0: ring-to-recvMsg latency.
    var sampledAt: UInt64 = 0
}

/// What the consenter asked the reactor to send: to one connection, or
/// (`handle` nil) to every established peer that `target` includes.
struct OutboundItem: Sendable {
    let message: Message
    let handle: ConnectionHandle?
    let target: BroadcastTarget
}

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

/// The `Communicator` a consenter gets: checks the target on the fan's thread
/// and hands the send to the reactor through the outbound ring.
final class FanCommunicator: Communicator, @unchecked Sendable {
    private let outbound: SPSCRing<OutboundItem>
    private let directory: PeerDirectory
    private let reactorWaker: EventWaker
    /// Set once the reactor has stopped draining; pushes then give up.
    let closed = Atomic<Bool>(false)
    let dropped = Atomic<Int>(0)
    /// True while the fan delivers a batch (fan queue only).
    @exclusivity(unchecked) var inBatch = false

    init(outbound: SPSCRing<OutboundItem>, directory: PeerDirectory, reactorWaker: EventWaker) {
        self.outbound = outbound
        self.directory = directory
        self.reactorWaker = reactorWaker
    }

    func broadcast(_ message: consuming Message, to target: BroadcastTarget) {
        enqueue(OutboundItem(message: consume message, handle: nil, target: target))
    }

    func unicast(_ message: consuming Message, to peer: PeerID) throws(CommunicatorError) {
        guard let handle = directory.resolve(peer) else { throw .unknownPeer(peer.name) }
        enqueue(OutboundItem(message: consume message, handle: handle, target: .all))
    }

    func peers() -> [PeerInfo] { directory.snapshot() }

    /// Pushes, waiting for the reactor while the ring is full (it is draining
    /// it; the wait is the back-pressure from slow sockets onto the consenter).
    private func enqueue(_ item: consuming OutboundItem) {
        while !outbound.hasRoom() {
            reactorWaker.forceWake()
            if closed.load(ordering: .relaxed) { dropped.add(1, ordering: .relaxed); return }
            sched_yield()
        }
        outbound.pushAfterRoomCheck(item)
        // Inside a drain the fan wakes the reactor once per batch; a send
        // from a consenter's timer wakes it now.
        if !inBatch { reactorWaker.wake() }
    }
}
