/// What the link layer enforces on every connection, read once from the
/// configuration: how long a link may take to become a peer, how much it may
/// send in one frame, how much may wait for it unsent, how many of its
/// frames are handled per turn, and how long a goodbye may linger.
struct LinkPolicy: Sendable {
    /// `peer.limits.maxFrameSize`: a larger frame is refused before anything is allocated for it.
    let maxFrameSize: Int
    /// `peer.limits.maxPendingWrite`: unsent bytes past this make a slow peer.
    let maxPendingWrite: Int
    /// `peer.limits.readBudget`: frames per connection per turn, at most a
    /// quarter of the inbound ring — a resumed reader with a budget near the
    /// ring's size would fill it again each time, and the readers paused
    /// behind it would wait until its whole read buffer was gone.
    let readBudget: Int
    /// `peer.limits.handshakeTimeout`: TLS and DISC_HELLO done by then.
    let handshakeTimeoutNanos: UInt64
    /// `peer.discovery.connectTimeout`: a dial connected by then.
    let connectTimeoutNanos: UInt64
    /// `peer.limits.idleTimeout`: no whole frame for this long closes an established link (0 = off).
    let idleTimeoutNanos: UInt64
    /// After DISC_DISCONNECT: how long to wait for the peer's close before closing anyway.
    let goodbyeLingerNanos: UInt64 = 2_000_000_000

    init(_ config: PeerConfig, ringCapacity: Int) {
        maxFrameSize = config.limits.maxFrameSize
        maxPendingWrite = config.limits.maxPendingWrite
        readBudget = LinkPolicy.readBudget(config.limits.readBudget, ringCapacity: ringCapacity)
        handshakeTimeoutNanos = config.limits.handshakeTimeoutNanos
        connectTimeoutNanos = config.discovery.connectTimeoutNanos
        idleTimeoutNanos = config.limits.idleTimeoutNanos
    }

    static func readBudget(_ configured: Int, ringCapacity: Int) -> Int { min(configured, max(1, ringCapacity / 4)) }

    /// The time a new connection has to become an established peer.
    func setupTimeout(dialing: Bool) -> UInt64 {
        dialing ? connectTimeoutNanos + handshakeTimeoutNanos : handshakeTimeoutNanos
    }
}
