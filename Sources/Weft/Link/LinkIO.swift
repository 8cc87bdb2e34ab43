import CWeftLinux
import Foundation
import Glibc
import Logging

/// The link layer's work on the reactor thread: each connection's reads
/// (one `recv` per readiness, frames handled in place), its writes (queued,
/// gathered into one `sendmsg` before the loop sleeps), backpressure and the
/// per-turn read budget, timers about one connection, and closing — with a
/// goodbye (DISC_DISCONNECT) or at once. TLS links take the same path through
/// `LinkIO+TLS.swift`.
///
/// It knows nothing of what frames mean: each whole frame goes up through
/// `LinkEvents`, the layer's one port to the peer layer above.
final class LinkIO {
    let loop: EventLoop
    let table: LinkTable
    let policy: LinkPolicy
    let metrics: ReactorMetrics
    let logger: Logger
    /// `peer.tls.enabled`: every link is TLS 1.3 with mutual authentication.
    let tlsContext: TLSContext?
    private let socketOptions: SocketOptions
    /// The calls up to the peer layer (a `let`: no retain per frame; its
    /// target is attached once, at wiring).
    let events = LinkEvents()

    /// Closes are expected now (the node is stopping): logged as info.
    @exclusivity(unchecked) var shuttingDown = false

    /// Readers waiting for room in the inbound ring (backpressure).
    @exclusivity(unchecked) private(set) var paused: [Connection] = []
    /// Connections that used their read budget with input left.
    @exclusivity(unchecked) private var backlogged: [Connection] = []
    /// Connections with writes queued in this turn, flushed before the loop sleeps.
    @exclusivity(unchecked) private var dirty: [Connection] = []

    /// The reactor's read buffer: a connection with nothing pending reads
    /// here, and its frames are handled in place.
    let scratch: UnsafeMutableRawBufferPointer
    let iovecs: UnsafeMutablePointer<iovec>
    let maxIovecs = 64

    init(loop: EventLoop, table: LinkTable, policy: LinkPolicy, socketOptions: SocketOptions, tlsContext: TLSContext?,
         metrics: ReactorMetrics, logger: Logger) {
        self.loop = loop
        self.table = table
        self.policy = policy
        self.socketOptions = socketOptions
        self.tlsContext = tlsContext
        self.metrics = metrics
        self.logger = logger
        scratch = .allocate(byteCount: 256 * 1024, alignment: 64)
        iovecs = .allocate(capacity: maxIovecs)
    }

    deinit {
        scratch.deallocate()
        iovecs.deallocate()
    }

    /// Work left for the next turn: the loop must not block.
    var hasBacklog: Bool { !backlogged.isEmpty }

    // MARK: new connections

    /// A connection's own socket knobs (`peer.socket.*`), on accept and dial.
    func applyConnectionOptions(_ fd: Int32) {
        for failure in socketOptions.applyToConnection(fd) {
            metrics.socketOptionFailures += 1
            logger.warning("cannot set socket option", metadata: ["knob": "\(failure.configKey)", "error": "\(failure)"])
        }
    }

    /// Registers a new connection with the loop and arms its setup timer.
    func adopt(_ c: Connection) {
        table.insert(c)
        do {
            try loop.register(c.fd, events: c.registeredEvents, handler: ConnectionEvents(links: self, connection: c))
        } catch {
            close(c, .ioError, detail: "\(error)")
            return
        }
        // The link's share of the setup deadline; the hello's is the peer layer's (same deadline).
        schedule(for: c, afterNanos: policy.setupTimeout(dialing: c.state == .connecting)) { [unowned self] c in
            switch c.state {
            case .connecting: self.close(c, .connectFailed, detail: "connect timed out")
            case .securing: self.close(c, .handshakeTimeout, detail: "TLS handshake not finished within the handshake timeout")
            case .open, .closing, .closed: break
            }
        }
        if c.state == .securing { beginTLS(c, role: .server) }
        if c.state == .open { events.linkReady(c) }
    }

    /// Completes a non-blocking connect: TLS first if on, then the peer layer's hello.
    func finishConnect(_ c: Connection) {
        guard c.state == .connecting else { return }
        let err = Sockets.pendingError(c.fd)
        guard err == 0 else {
            close(c, .connectFailed, detail: "connect to \(c.remoteAddress): \(String(cString: strerror(err)))")
            return
        }
        if tlsContext != nil {
            beginTLS(c, role: .client)       // the hello follows the TLS handshake
            return
        }
        c.linkUp()
        events.linkReady(c)
    }

    /// A timer about one connection: runs only if that connection (not a later
    /// one in the same slot) is still there.
    func schedule(for c: Connection, afterNanos delay: UInt64, _ action: @escaping (Connection) -> Void) {
        let handle = c.handle
        let table = self.table
        loop.schedule(afterNanos: delay) {
            if let c = table.connection(handle) { action(c) }
        }
    }

    // MARK: readiness

    func connectionReady(_ c: Connection, events: UInt32) {
        if c.state == .connecting { finishConnect(c); return }
        // The loop delivers only bits still registered: no readable event reaches a paused reader.
        if events & (Readiness.readable | Readiness.hangUp | Readiness.error) != 0 { readable(c) }
        if c.state != .closed, events & Readiness.writable != 0 { flush(c) }
    }

    // MARK: read

    /// One read per readiness (level-triggered: more data brings more events).
    /// A connection with nothing pending reads into the scratch buffer and
    /// frames are handled in place; only an unfinished tail is copied into
    /// the connection's own buffer.
    func readable(_ c: Connection) {
        if c.state == .closing { discardInput(c); return }
        c.startReadTurn(budget: policy.readBudget)
        if c.tls != nil { readableTLS(c); return }
        if c.reader.isEmpty {
            guard let n = received(Syscall.receive(c.fd, into: scratch.baseAddress, count: scratch.count), on: c) else { return }
            let bytes = UnsafeRawBufferPointer(start: scratch.baseAddress, count: n)
            let used = processFrames(c, bytes)
            if c.carriesFrames, used < n {
                c.keepUnread(UnsafeRawBufferPointer(rebasing: bytes[used...]))
            }
        } else {
            let pending = c.reader.readable
            var wanted = 16 * 1024
            if case .incomplete(let needed) = FrameCursor.next(in: pending, at: 0, maxFrameSize: policy.maxFrameSize),
               needed > pending.count {
                wanted = max(wanted, min(needed - pending.count, 1 << 20))
            }
            let space = c.readSpace(minimum: wanted)
            guard let n = received(Syscall.receive(c.fd, into: space.baseAddress, count: space.count), on: c) else { return }
            c.commitRead(n)
            processBuffered(c)
        }
    }

    /// Accounts a read; closes on EOF or error. The byte count when bytes arrived.
    @inline(__always)
    func received(_ outcome: Syscall.ReadOutcome, on c: Connection) -> Int? {
        switch outcome {
        case .bytes(let n):
            c.countReceived(n)
            metrics.bytesIn += n
            return n
        case .wouldBlock:
            return nil
        case .endOfStream:
            close(c, .peerClosed, detail: "peer closed the connection")
            return nil
        case .failed(let err):
            close(c, .ioError, detail: "read: \(String(cString: strerror(err)))")
            return nil
        }
    }

    /// After DISC_DISCONNECT: drop input until the peer closes.
    private func discardInput(_ c: Connection) {
        switch Syscall.receive(c.fd, into: scratch.baseAddress, count: scratch.count) {
        case .bytes, .wouldBlock: break
        case .endOfStream: close(c, c.closeCause ?? .peerClosed, detail: c.closeDetail)
        case .failed: close(c, c.closeCause ?? .ioError, detail: c.closeDetail)
        }
    }

    /// Handles the whole frames in the connection's own buffer and drops them from it.
    func processBuffered(_ c: Connection) {
        let used = processFrames(c, c.reader.readable)
        if c.carriesFrames { c.consumeRead(used) }
    }

    /// Hands every whole frame in `bytes` up; returns how many bytes it used.
    /// Stops early when the connection closes, pauses (backpressure) or has
    /// used its read budget.
    func processFrames(_ c: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        // Only whole frames count as activity: a frame that trickles in
        // byte by byte (slowloris) does not hold off the idle timeout.
        var sawFrame = false
        defer { if sawFrame { c.framesDelivered(clock: tracksIdleness) } }
        while c.acceptsFrames {
            switch FrameCursor.next(in: bytes, at: offset, maxFrameSize: policy.maxFrameSize) {
            case .incomplete:
                return offset
            case .tooLarge(let length):
                metrics.decodeErrors += 1
                disconnect(c, .frameTooLarge, reason: "frame too large",
                           detail: "frame of \(length) bytes over peer.limits.maxFrameSize \(policy.maxFrameSize)")
                return offset
            case .frame(let start, let bodyCount):
                // A whole frame waits: handled if the connection's budget allows, else next turn.
                guard c.takeFrameFromBudget() else { backlog(c); return offset }
                let frame = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + FrameFormat.headerSize + bodyCount)])
                guard let header = WireScan.message(UnsafeRawBufferPointer(rebasing: frame[FrameFormat.headerSize...])) else {
                    metrics.decodeErrors += 1
                    disconnect(c, .malformed, reason: "malformed frame", detail: "a \(bodyCount)-byte body is not a protos.Message")
                    return offset
                }
                if events.frame(InboundFrame(frame: frame, header: header), from: c) == .retryLater {
                    return offset                           // paused: the frame stays
                }
                offset += frame.count
                metrics.framesIn += 1
                sawFrame = true
            }
        }
        return offset
    }

    /// Whether anything reads `lastReceiveAt` (the idle timeout is on).
    var tracksIdleness: Bool { policy.idleTimeoutNanos > 0 }

    // MARK: fairness

    /// `c` used its read budget with input left: it stops reading and gets
    /// another budget's worth of what it holds in the next turn, after the
    /// connections that are ready then.
    private func backlog(_ c: Connection) {
        guard c.markBacklogged() else { return }
        backlogged.append(c)
        updateEvents(c)
    }

    /// Hands each backlogged connection its next budget (before sleep).
    func serveBacklogged() {
        guard !backlogged.isEmpty else { return }
        let waiting = backlogged
        backlogged.removeAll(keepingCapacity: true)
        for c in waiting where c.clearBacklogged() {
            guard c.carriesFrames else { continue }
            if !c.paused { resumeReading(c) }
            if c.state != .closed { updateEvents(c) }
        }
    }

    /// A fresh budget over what `c` holds: its buffered frames, then (TLS)
    /// the records still in the session.
    private func resumeReading(_ c: Connection) {
        c.startReadTurn(budget: policy.readBudget)
        processBuffered(c)
        if c.tls != nil && c.acceptsFrames { openRecords(c) }
    }

    // MARK: backpressure

    /// Stops reading `c` until `resumePaused` (the inbound ring is full).
    func pause(_ c: Connection) {
        guard c.pauseReading() else { return }
        metrics.ringFullEvents += 1
        paused.append(c)
        updateEvents(c)
    }

    /// Paused readers go on (the ring has room again), in the order they paused.
    func resumePaused() {
        guard !paused.isEmpty else { return }
        let waiting = paused
        paused.removeAll(keepingCapacity: true)
        for c in waiting where c.state != .closed && c.unpauseReading() {
            resumeReading(c)
            if c.state != .closed { updateEvents(c) }
        }
    }

    /// Every connection stops reading for good (shutdown): what is in the ring is all that is delivered.
    func pauseAllForShutdown() {
        for c in table.all where c.state != .closing {
            if c.state == .connecting { close(c, .shutdown, detail: "shutting down"); continue }
            _ = c.pauseReading()
            updateEvents(c)
        }
        paused.removeAll()
    }

    // MARK: write

    /// Queues a frame; a peer whose unsent bytes would pass the cap is a slow
    /// peer and is disconnected (the rest of the mesh keeps its speed).
    @discardableResult
    func send(_ frame: FrameStorage, on c: Connection) -> Bool {
        if c.unsentBytes + frame.frameCount > policy.maxPendingWrite {
            metrics.slowPeers += 1
            metrics.outboundDropped += 1
            close(c, .slowPeer, detail: "slow peer: \(c.unsentBytes) unsent bytes, over peer.limits.maxPendingWrite \(policy.maxPendingWrite)")
            return false
        }
        metrics.framesOut += 1
        if c.queue(frame) { dirty.append(c) }
        return true
    }

    /// Writes every connection that queued something in this turn (before sleep).
    func flushDirty() {
        guard !dirty.isEmpty else { return }
        for c in dirty where c.takeDirty() {
            if c.state != .closed { flush(c) }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Writes what is queued with gathered sends; arms EPOLLOUT only while bytes wait.
    func flush(_ c: Connection) {
        var sent = 0
        let result = c.tls == nil ? c.sendQueued(iovecs: iovecs, maxIovecs: maxIovecs, sent: &sent)
                                  : sealAndSend(c, sent: &sent)
        c.countSent(sent)
        metrics.bytesOut += sent
        switch result {
        case .failed(let err):
            close(c, c.state == .closing ? (c.closeCause ?? .ioError) : .ioError,
                  detail: c.state == .closing ? c.closeDetail : "write: \(String(cString: strerror(err)))")
            return
        case .drained:
            if c.state == .closing && !c.shutWrite {
                Syscall.shutdownWrite(c.fd)            // the reason is out: wait for the peer's close
                c.markWriteShut()
            }
        case .blocked:
            break
        }
        updateEvents(c)
    }

    func updateEvents(_ c: Connection) {
        let wanted = c.wantedEvents
        if wanted != c.registeredEvents {
            loop.modify(c.fd, events: wanted)
            c.registered(wanted)
        }
    }
}
