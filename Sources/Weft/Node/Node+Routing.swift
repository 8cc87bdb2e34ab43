/// The way back: what the consenter sent, from the outbound ring to the
/// connections' write queues (reactor thread, before sleep).
extension Node {
    /// Routes what the consenter sent (bounded per turn so reads are not starved).
    func drainOutbound() {
        var budget = 4 * outbound.capacity
        while budget > 0, let item = outbound.pop() {
            budget -= 1
            guard let handle = item.handle else {
                for c in links.byName.values where item.target.includes(c.peer?.type ?? .undefined) {
                    send(item.message.storage, on: c)
                }
                continue
            }
            // A unicast: the frame is moved out of the item, written (small
            // frames are copied into the write buffer) and, when this was the
            // last reference, reused for the next inbound message.
            let frame = Node.storage(of: consume item)
            if let c = connection(handle), c.state == .established {
                send(frame, on: c)
            } else {
                metrics.outboundDropped += 1              // the peer left after the consenter checked
            }
            framePool.recycle(frame)
        }
    }

    /// The frame of an item, the item itself gone (so the frame may be the last reference).
    @inline(__always)
    static func storage(of item: consuming OutboundItem) -> FrameStorage { item.message.storage }

    @inline(__always)
    func connection(_ handle: ConnectionHandle) -> Connection? { links.connection(handle) }
}
