import CWeftLinux
import Glibc

/// One TCP connection and everything the link layer knows of it: the
/// socket, its buffers, TLS, epoll interest, flow control and byte counts.
/// Owned by the reactor thread; nothing here is touched from another thread.
///
/// One owner: every field is `private(set)` (or `let`) and changes only
/// through the methods below, which LinkIO calls; the compiler refuses a
/// write from anywhere else, and LayerTests refuses a field opened again.
/// Who the peer is (its hello, name, type) is the peer layer's
/// (`PeerSessions`); the engine keeps its own per-connection state
/// (ConsensusHandler, by slot).
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
        /// Connected (and secured): frames flow both ways. What they mean,
        /// the hello first, is the peer layer's.
        case open
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
    /// When the link layer took the socket (MonotonicClock): setup deadlines count from here.
    let adoptedAt: UInt64

    @exclusivity(unchecked) private(set) var reader = FrameReader()
    @exclusivity(unchecked) private(set) var writes = WriteQueue()
    /// With TLS: the session, and the ciphertext it produced, not yet sent.
    /// `writes` then holds plaintext, sealed into `sealed` at each flush.
    private(set) var tls: TLSSession?
    @exclusivity(unchecked) private(set) var sealed = WriteQueue()
    /// EPOLL events currently registered.
    @exclusivity(unchecked) private(set) var registeredEvents: UInt32
    /// Reading is off until the inbound ring has room (backpressure).
    @exclusivity(unchecked) private(set) var paused = false
    /// Frames this connection may still handle in this turn (`peer.limits.readBudget`).
    @exclusivity(unchecked) private(set) var readBudgetLeft = 0
    /// It used its budget with input left: reading is off, and the reactor
    /// goes on with what is buffered in its next turn.
    @exclusivity(unchecked) private(set) var backlogged = false
    /// In the reactor's list of connections to flush before it sleeps.
    @exclusivity(unchecked) private(set) var dirty = false
    @exclusivity(unchecked) private(set) var shutWrite = false
    /// A whole frame has arrived and gone up (before it, a TLS failure is the handshake's).
    @exclusivity(unchecked) private(set) var hasDeliveredFrames = false

    private(set) var closeCause: CloseCause?
    private(set) var closeDetail = ""

    @exclusivity(unchecked) private(set) var lastReceiveAt: UInt64
    @exclusivity(unchecked) private(set) var bytesIn = 0
    @exclusivity(unchecked) private(set) var bytesOut = 0

    init(fd: Int32, handle: ConnectionHandle, direction: Direction, state: State, remoteAddress: String,
         dialedAddress: String? = nil) {
        self.fd = fd
        self.handle = handle
        self.direction = direction
        self.state = state
        self.remoteAddress = remoteAddress
        self.dialedAddress = dialedAddress
        registeredEvents = state == .connecting ? Readiness.writable : Readiness.readable
        adoptedAt = MonotonicClock.now()
        lastReceiveAt = adoptedAt
    }

    // MARK: transitions

    /// Connected and, with TLS, secured: frames may flow.
    func linkUp() { state = .open }

    /// Connected, the TLS handshake begins.
    func securing(with session: TLSSession) {
        state = .securing
        tls = session
    }

    /// A goodbye is under way: input is dropped (reading on, to see the
    /// peer's close), the close comes once it is out.
    func beginClosing(_ cause: CloseCause, detail: String) {
        state = .closing
        closeCause = cause
        closeDetail = detail
        paused = false
        backlogged = false
        reader.release()
    }

    /// Closed: the buffers and the TLS session go.
    func markClosed() {
        state = .closed
        reader.release()
        writes.removeAll()
        sealed.removeAll()
        tls = nil
    }

    // MARK: reading

    /// A new readiness: this many frames may be handled before the next turn.
    @inline(__always)
    func startReadTurn(budget: Int) { readBudgetLeft = budget }

    /// Takes one frame from this turn's budget; false once it is spent.
    @inline(__always)
    func takeFrameFromBudget() -> Bool {
        guard readBudgetLeft > 0 else { return false }
        readBudgetLeft &-= 1
        return true
    }

    @inline(__always)
    func countReceived(_ n: Int) { bytesIn &+= n }

    /// Whole frames went up in this read; `clock`: note when (the idle timeout is on).
    @inline(__always)
    func framesDelivered(clock: Bool) {
        hasDeliveredFrames = true
        if clock { lastReceiveAt = MonotonicClock.now() }
    }

    /// Keeps an unfinished frame's bytes for the next read.
    func keepUnread(_ bytes: UnsafeRawBufferPointer) { reader.append(bytes) }

    /// Room behind the unread bytes for at least `minimum` more.
    func readSpace(minimum: Int) -> UnsafeMutableRawBufferPointer { reader.writable(minimum: minimum) }

    /// `n` bytes were read into `readSpace`.
    func commitRead(_ n: Int) { reader.commit(n) }

    /// `n` unread bytes were handled.
    func consumeRead(_ n: Int) { reader.consume(n) }

    // MARK: flow control

    /// Stops reading (backpressure, shutdown); false if it was already paused.
    func pauseReading() -> Bool {
        guard !paused else { return false }
        paused = true
        return true
    }

    /// Reading may go on; false if it was not paused.
    func unpauseReading() -> Bool {
        guard paused else { return false }
        paused = false
        return true
    }

    /// Its budget is used with input left; false if it already was.
    func markBacklogged() -> Bool {
        guard !backlogged else { return false }
        backlogged = true
        return true
    }

    /// Its next budget is due; false if it was not backlogged (a goodbye cleared it).
    func clearBacklogged() -> Bool {
        guard backlogged else { return false }
        backlogged = false
        return true
    }

    /// The events registered with epoll are now `events`.
    func registered(_ events: UInt32) { registeredEvents = events }

    // MARK: writing

    /// Queues a frame; true if the connection just became dirty (to be flushed this turn).
    @inline(__always)
    func queue(_ frame: FrameStorage) -> Bool {
        writes.append(frame)
        guard !dirty else { return false }
        dirty = true
        return true
    }

    /// Its turn in the flush of dirty connections; false if it was already flushed.
    func takeDirty() -> Bool {
        guard dirty else { return false }
        dirty = false
        return true
    }

    /// One gathered send of the plaintext queue (inlined: it was, as LinkIO's own code).
    @inline(__always)
    func sendQueued(iovecs: UnsafeMutablePointer<iovec>, maxIovecs: Int, sent: inout Int) -> WriteQueue.FlushResult {
        writes.flush(fd: fd, iovecs: iovecs, maxIovecs: maxIovecs, sent: &sent)
    }

    /// TLS: the queued plaintext sealed into records; false if sealing failed.
    func sealQueued(into tls: TLSSession) -> Bool { writes.seal(into: tls) }

    /// TLS: the session's ciphertext queued, and one gathered send of it.
    func sendSealed(of tls: TLSSession, iovecs: UnsafeMutablePointer<iovec>, maxIovecs: Int,
                    sent: inout Int) -> WriteQueue.FlushResult {
        sealed.appendCiphertext(of: tls)
        return sealed.flush(fd: fd, iovecs: iovecs, maxIovecs: maxIovecs, sent: &sent)
    }

    @inline(__always)
    func countSent(_ n: Int) { bytesOut &+= n }

    /// The write side was shut down (the goodbye is out).
    func markWriteShut() { shutWrite = true }

    // MARK: what follows from the state

    /// The link carries frames in this state (before it: connect, TLS;
    /// after it: a goodbye under way).
    var carriesFrames: Bool { state == .open }

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
        case .open: return (paused || backlogged ? 0 : Readiness.readable) | writing
        }
    }
}
