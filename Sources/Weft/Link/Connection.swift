import CWeftLinux
import Glibc

/// One TCP connection to a peer and everything the reactor knows of it.
/// Owned by the reactor thread; nothing here is touched from another thread.
///
/// The mutable state is marked `@exclusivity(unchecked)`: only the reactor
/// thread touches it, and never re-entrantly, so Swift's dynamic exclusivity
/// checks (a thread-local access-set insert per access) would be pure cost
/// on the per-message path.
final class Connection {
    enum Direction: String { case inbound, outbound }

    enum State: Equatable {
        /// Dialed, the non-blocking connect has not completed.
        case connecting
        /// Connected, TLS handshake under way (`peer.tls.enabled`).
        case securing
        /// Connected (and secured); waiting for the other side's DISC_HELLO.
        case awaitingHello
        case established
        /// DISC_DISCONNECT queued: input is discarded, the socket closes once
        /// the reason is out and the peer has closed (or a short linger passed).
        case closing
        case closed
    }

    let fd: Int32
    let handle: ConnectionHandle
    let direction: Direction
    @exclusivity(unchecked) var state: State
    /// The address it was dialed at (outbound) or came from (inbound).
    let remoteAddress: String
    /// For outbound connections: the discovery entry that dialed it.
    var dialedAddress: String?

    @exclusivity(unchecked) var reader = FrameReader()
    @exclusivity(unchecked) var writes = WriteQueue()
    /// With TLS: the session, and the ciphertext it produced, not yet sent.
    /// `writes` then holds plaintext, sealed into `sealed` at each flush.
    var tls: TLSSession?
    @exclusivity(unchecked) var sealed = WriteQueue()
    /// EPOLL events currently registered.
    @exclusivity(unchecked) var registeredEvents: UInt32
    /// Reading is off until the inbound ring has room (backpressure).
    @exclusivity(unchecked) var paused = false
    /// Frames this connection may still handle in this turn (`peer.limits.readBudget`).
    @exclusivity(unchecked) var readBudgetLeft = 0
    /// It used its budget with input left: reading is off, and the reactor
    /// goes on with what is buffered in its next turn.
    @exclusivity(unchecked) var backlogged = false
    /// In the reactor's list of connections to flush before it sleeps.
    @exclusivity(unchecked) var dirty = false
    @exclusivity(unchecked) var shutWrite = false

    /// Known once the hello arrived.
    var peer: PeerInfo?
    @exclusivity(unchecked) var peerID: PeerID
    /// The fan has been given `peerID` (with this connection's first message).
    @exclusivity(unchecked) var introducedToFan = false
    var closeCause: CloseCause?
    var closeDetail = ""

    var establishedWallClock: Double = 0
    @exclusivity(unchecked) var lastReceiveAt: UInt64
    @exclusivity(unchecked) var bytesIn = 0
    @exclusivity(unchecked) var bytesOut = 0
    /// Rate limit for "Message channel for <id> full, rejecting".
    var lastRejectLogAt: UInt64 = 0
    var rejectsSinceLog = 0

    init(fd: Int32, handle: ConnectionHandle, direction: Direction, state: State, remoteAddress: String) {
        self.fd = fd
        self.handle = handle
        self.direction = direction
        self.state = state
        self.remoteAddress = remoteAddress
        peerID = PeerID(name: "", handle: handle)
        registeredEvents = state == .connecting ? Readiness.writable : Readiness.readable
        lastReceiveAt = MonotonicClock.now()
    }

    var name: String { peer?.name ?? "" }
    var displayName: String { peer?.name ?? "<no hello>" }

    /// The link carries frames in these states (before them: connect, TLS;
    /// after them: a goodbye under way).
    var carriesFrames: Bool { state == .awaitingHello || state == .established }

    /// Reading frames is allowed in these states.
    var acceptsFrames: Bool { carriesFrames && !paused && !backlogged }

    /// Bytes queued and not yet sent (plaintext and, with TLS, ciphertext).
    var unsentBytes: Int { writes.pendingBytes + sealed.pendingBytes }

    /// The events this connection wants from epoll now.
    var wantedEvents: UInt32 {
        let writing = unsentBytes == 0 ? 0 : Readiness.writable
        switch state {
        case .connecting: return Readiness.writable
        case .closed: return 0
        case .securing, .closing: return Readiness.readable | writing
        case .awaitingHello, .established: return (paused || backlogged ? 0 : Readiness.readable) | writing
        }
    }
}
