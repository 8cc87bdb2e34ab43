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
