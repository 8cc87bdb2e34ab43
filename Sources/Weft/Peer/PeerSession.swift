/// What the peer layer knows of one connection: where its hello exchange
/// stands and, once the hello was accepted, who the peer is. A value, kept
/// per connection slot by `PeerSessions`, the one place that changes it.
struct PeerSession {
    enum Phase: Equatable {
        /// No session: the slot is free, or its link is not up yet.
        case none
        /// The link is up; the other side's DISC_HELLO is awaited (until `helloDeadline`).
        case awaitingHello
        /// The hello exchange is done: the connection is its peer's established link.
        case established
        /// It was established and is saying goodbye: no longer its peer's link.
        case left
    }

    /// The generation of the connection this session belongs to (0: none).
    let generation: UInt32
    let phase: Phase
    /// The peer, once its hello was accepted (its own hello may still be on its way out).
    let peer: PeerInfo?
    /// When the hello must have come by (MonotonicClock).
    let helloDeadline: UInt64
    /// When the hello exchange finished (wall clock seconds, `since` of /peers).
    let establishedWallClock: Double

    static let none = PeerSession(generation: 0, phase: .none, peer: nil, helloDeadline: 0, establishedWallClock: 0)

    /// The link of connection `generation` is up; its hello is due by `deadline`.
    static func awaitingHello(generation: UInt32, deadline: UInt64) -> PeerSession {
        PeerSession(generation: generation, phase: .awaitingHello, peer: nil, helloDeadline: deadline, establishedWallClock: 0)
    }

    /// The hello was accepted: the session carries `info`'s peer.
    func identified(as info: PeerInfo) -> PeerSession {
        PeerSession(generation: generation, phase: phase, peer: info, helloDeadline: helloDeadline,
                    establishedWallClock: establishedWallClock)
    }

    func established(wallClock: Double) -> PeerSession {
        PeerSession(generation: generation, phase: .established, peer: peer, helloDeadline: helloDeadline,
                    establishedWallClock: wallClock)
    }

    func leaving() -> PeerSession {
        PeerSession(generation: generation, phase: .left, peer: peer, helloDeadline: helloDeadline,
                    establishedWallClock: establishedWallClock)
    }

    /// The peer's name, or "" before its hello.
    var name: String { peer?.name ?? "" }
    /// The peer's name for logs.
    var displayName: String { peer?.name ?? "<no hello>" }
}
