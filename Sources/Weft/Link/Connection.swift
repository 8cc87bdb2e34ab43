import CWeftLinux
import Glibc

/// One TCP connection to a peer and everything the link layer knows of it.
/// Owned by the reactor thread; nothing here is touched from another thread.
///
/// Only the link layer (Link/) writes it: the fields that say what the link
/// is (its state, the peer it carries, why it closes) change only through
/// the transitions below; the I/O bookkeeping is LinkIO's (LayerTests checks
/// that no other folder assigns a field). The engine keeps its own
/// per-connection state (ConsensusHandler, by slot).
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
    @exclusivity(unchecked) private(set) var state: State
    /// The address it was dialed at (outbound) or came from (inbound).
    let remoteAddress: String
    /// For outbound connections: the discovery entry that dialed it.
    let dialedAddress: String?

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

    /// Known once the hello arrived (the peer layer's decision, stored here).
    private(set) var peer: PeerInfo?
    @exclusivity(unchecked) private(set) var peerID: PeerID
    private(set) var closeCause: CloseCause?
    private(set) var closeDetail = ""

    private(set) var establishedWallClock: Double = 0
    @exclusivity(unchecked) var lastReceiveAt: UInt64
    @exclusivity(unchecked) var bytesIn = 0
    @exclusivity(unchecked) var bytesOut = 0

    init(fd: Int32, handle: ConnectionHandle, direction: Direction, state: State, remoteAddress: String,
         dialedAddress: String? = nil) {
        self.fd = fd
        self.handle = handle
        self.direction = direction
        self.state = state
        self.remoteAddress = remoteAddress
        self.dialedAddress = dialedAddress
        peerID = PeerID(name: "", handle: handle)
        registeredEvents = state == .connecting ? Readiness.writable : Readiness.readable
        lastReceiveAt = MonotonicClock.now()
    }

    // MARK: transitions (called by LinkIO only)

    /// Connected and, with TLS, secured: frames may flow, the hello is next.
    func linkUp() { state = .awaitingHello }

    /// Connected, the TLS handshake begins.
    func securing() { state = .securing }

    /// The peer layer accepted the hello: the link carries `info`'s peer.
    func identify(as info: PeerInfo) {
        peer = info
        peerID = info.id
    }

    /// The hello exchange is done (both hellos are out).
    func establish(wallClock: Double) {
        state = .established
        establishedWallClock = wallClock
    }

    /// A goodbye is under way: input is dropped, the close comes once it is out.
    func beginClosing(_ cause: CloseCause, detail: String) {
        state = .closing
        closeCause = cause
        closeDetail = detail
    }

    func markClosed() { state = .closed }

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
