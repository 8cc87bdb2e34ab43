/// The way back: what the consenter sent, from the outbound ring to the
/// connections' write queues (reactor thread, before sleep).
final class OutboundRouter {
    private let outbound: SPSCRing<OutboundItem>
    private let links: LinkIO
    /// The established peers and their types (the peer layer's).
    private let sessions: PeerSessions
    /// Sent frames come back here when the reactor held their last reference.
    private let framePool: FramePool

    init(outbound: SPSCRing<OutboundItem>, links: LinkIO, sessions: PeerSessions, framePool: FramePool) {
        self.outbound = outbound
        self.links = links
        self.sessions = sessions
        self.framePool = framePool
    }

    /// Routes what the consenter sent (bounded per turn so reads are not starved).
    func drain() {
        var budget = 4 * outbound.capacity
        while budget > 0, let item = outbound.pop() {
            budget -= 1
            guard let handle = item.handle else {
                for c in sessions.byName.values where item.target.includes(sessions.peerType(of: c.handle)) {
                    links.send(item.message.storage, on: c)
                }
                continue
            }
            // A unicast: the frame is moved out of the item, written (small
            // frames are copied into the write buffer) and, when this was the
            // last reference, reused for the next inbound message.
            let frame = OutboundRouter.storage(of: consume item)
            if sessions.isEstablished(handle), let c = links.table.connection(handle) {
                links.send(frame, on: c)
            } else {
                links.metrics.outboundDropped += 1        // the peer left after the consenter checked
            }
            framePool.recycle(frame)
        }
    }

    /// The frame of an item, the item itself gone (so the frame may be the last reference).
    @inline(__always)
    private static func storage(of item: consuming OutboundItem) -> FrameStorage { item.message.storage }
}
