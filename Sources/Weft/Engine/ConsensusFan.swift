import Dispatch
import Glibc
import Synchronization

/// A consensus message on its way to the consenter.
struct InboundItem: Sendable {
    let message: Message
    let sender: PeerID

    /// Hands the message over to the consenter (moved, not copied).
    @inline(__always)
    consuming func deliver(to consenter: Consenter) {
        let message = self.message, sender = self.sender
        _ = consume self
        consenter.recvMsg(consume message, from: sender)
    }
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
    private let scheduled = Atomic<Bool>(false)
    /// Set by the reactor when it paused reading (backpressure): the fan wakes
    /// it once the ring is below half.
    let reactorWaitsForRoom = Atomic<Bool>(false)
    /// Messages delivered to the consenter.
    let delivered = Atomic<Int>(0)

    private let communicator: FanCommunicator

    init(consenter: Consenter, inbound: SPSCRing<InboundItem>, communicator: FanCommunicator, reactorWaker: EventWaker, label: String) {
        self.consenter = consenter
        self.communicator = communicator
        self.inbound = inbound
        self.reactorWaker = reactorWaker
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Reactor: messages were pushed.
    @inline(__always)
    func notify() {
        if !scheduled.load(ordering: .relaxed), !scheduled.exchange(true, ordering: .sequentiallyConsistent) {
            queue.async { self.drain() }
        }
    }

    private func drain() {
        let half = inbound.capacity / 2
        while true {
            var count = 0
            communicator.inBatch = true
            while let item = inbound.pop() {
                (consume item).deliver(to: consenter)
                count += 1
                if count & 63 == 0 { reactorWaker.wake() }           // a long batch: let the reactor write
                if reactorWaitsForRoom.load(ordering: .relaxed), inbound.count < half,
                   reactorWaitsForRoom.exchange(false, ordering: .acquiringAndReleasing) {
                    reactorWaker.forceWake()
                }
            }
            communicator.inBatch = false
            if count > 0 {
                delivered.add(count, ordering: .relaxed)
                reactorWaker.wake()                                  // one wake-up per batch
            }
            scheduled.store(false, ordering: .sequentiallyConsistent)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            // A push that raced with the store above either saw `false` and
            // scheduled another drain, or is visible now: take it over.
            if inbound.isEmpty || scheduled.exchange(true, ordering: .sequentiallyConsistent) { return }
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
        _ = outbound.push(item)
        // Inside a drain the fan wakes the reactor once per batch; a send
        // from a consenter's timer wakes it now.
        if !inBatch { reactorWaker.wake() }
    }
}
