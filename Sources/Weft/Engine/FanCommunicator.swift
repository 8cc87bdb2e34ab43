import Glibc
import Synchronization

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
