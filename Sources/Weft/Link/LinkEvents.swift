/// Everything the link layer tells the layer above, and nothing more: the
/// link layer's one port up. A small final class holding the peer layer as
/// `Upward` (no reference count; the node owns both), so each call is
/// static and costs no retain.
final class LinkEvents {
    /// Set once, at wiring (a plain unmanaged reference: reading it costs no retain).
    @exclusivity(unchecked) private var peer: Upward<PeerLayer>!

    func attach(_ peer: PeerLayer) {
        precondition(self.peer == nil, "the link layer is wired once")
        self.peer = Upward(peer)
    }

    /// A whole frame arrived on `c` (hello or not yet established included).
    @inline(__always)
    func frame(_ frame: InboundFrame, from c: Connection) -> Disposition {
        peer { $0.receive(frame, from: c) }
    }

    /// `c` is connected (and secured): frames may flow (a dialer speaks first).
    func linkReady(_ c: Connection) { peer { $0.linkReady(c) } }

    /// `c` is saying goodbye: it carries nothing more up.
    func closing(_ c: Connection) { peer { $0.closing(c) } }

    /// `c` is closed; `cause` says why, `detail` in words.
    func closed(_ c: Connection, cause: CloseCause, detail: String) {
        peer { $0.closed(c, cause: cause, detail: detail) }
    }
}
