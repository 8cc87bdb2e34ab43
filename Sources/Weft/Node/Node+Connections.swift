import CWeftLinux
import Glibc
import Logging

/// Accepting, reading, writing and closing: the reactor's per-socket work.
extension Node {
    /// Registers a new connection with the loop and arms its handshake timer.
    func adopt(_ c: Connection) {
        links.insert(c)
        do {
            try loop.register(c.fd, events: c.registeredEvents, handler: ConnectionEvents(node: self, connection: c))
        } catch {
            close(c, .ioError, detail: "\(error)")
            return
        }
        let timeout = policy.setupTimeout(dialing: c.state == .connecting)
        schedule(for: c, afterNanos: timeout) { c in
            switch c.state {
            case .connecting: self.close(c, .connectFailed, detail: "connect timed out")
            case .securing: self.close(c, .handshakeTimeout, detail: "TLS handshake not finished within the handshake timeout")
            case .awaitingHello: self.close(c, .handshakeTimeout, detail: "no DISC_HELLO within the handshake timeout")
            case .established, .closing, .closed: break
            }
        }
    }

    /// A timer about one connection: runs only if that connection (not a later
    /// one in the same slot) is still there.
    func schedule(for c: Connection, afterNanos delay: UInt64, _ action: @escaping (Connection) -> Void) {
        let handle = c.handle
        loop.schedule(afterNanos: delay) { [unowned self] in
            if let c = self.connection(handle) { action(c) }
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
    /// A connection with nothing pending reads into the reactor's scratch
    /// buffer and frames are handled in place; only an unfinished tail is
    /// copied into the connection's own buffer.
    func readable(_ c: Connection) {
        if c.state == .closing { discardInput(c); return }
        c.readBudgetLeft = policy.readBudget
        if c.tls != nil { readableTLS(c); return }
        if c.reader.isEmpty {
            guard let n = received(Syscall.receive(c.fd, into: scratch.baseAddress, count: scratch.count), on: c) else { return }
            let bytes = UnsafeRawBufferPointer(start: scratch.baseAddress, count: n)
            let used = processFrames(c, bytes)
            if c.state == .awaitingHello || c.state == .established, used < n {
                c.reader.append(UnsafeRawBufferPointer(rebasing: bytes[used...]))
            }
        } else {
            let pending = c.reader.readable
            var wanted = 16 * 1024
            if case .incomplete(let needed) = FrameCursor.next(in: pending, at: 0, maxFrameSize: policy.maxFrameSize),
               needed > pending.count {
                wanted = max(wanted, min(needed - pending.count, 1 << 20))
            }
            let space = c.reader.writable(minimum: wanted)
            guard let n = received(Syscall.receive(c.fd, into: space.baseAddress, count: space.count), on: c) else { return }
            c.reader.commit(n)
            let used = processFrames(c, c.reader.readable)
            if c.state == .awaitingHello || c.state == .established { c.reader.consume(used) }
        }
    }

    /// Accounts a read; closes on EOF or error. The byte count when bytes arrived.
    @inline(__always)
    func received(_ outcome: Syscall.ReadOutcome, on c: Connection) -> Int? {
        switch outcome {
        case .bytes(let n):
            c.bytesIn += n
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

    /// Handles every whole frame in `bytes`; returns how many bytes it used.
    /// Stops early when the connection closes or pauses (backpressure).
    func processFrames(_ c: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        // Only whole frames count as activity: a frame that trickles in
        // byte by byte (slowloris) does not hold off the idle timeout.
        var sawFrame = false
        defer { if sawFrame && tracksIdleness { c.lastReceiveAt = MonotonicClock.now() } }
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
                guard c.readBudgetLeft > 0 else { backlog(c); return offset }
                c.readBudgetLeft &-= 1
                let frame = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + FrameFormat.headerSize + bodyCount)])
                guard let header = WireScan.message(UnsafeRawBufferPointer(rebasing: frame[FrameFormat.headerSize...])) else {
                    metrics.decodeErrors += 1
                    disconnect(c, .malformed, reason: "malformed frame", detail: "a \(bodyCount)-byte body is not a protos.Message")
                    return offset
                }
                let inbound = InboundFrame(frame: frame, header: header)
                if c.state == .established {
                    if dispatch(inbound, from: c) == .retryLater { return offset }   // paused: the frame stays
                } else {
                    handleHandshake(inbound, from: c)
                }
                offset += frame.count
                metrics.framesIn += 1
                sawFrame = true
            }
        }
        return offset
    }

    /// Runs a message down the handler chain.
    @inline(__always)
    func dispatch(_ frame: InboundFrame, from c: Connection) -> Disposition {
        let result = chain.handle(frame, from: c)
        if result == .pass { metrics.unhandledMessages += 1 }
        return result == .pass ? .handled : result
    }

    /// Whether anything reads `lastReceiveAt` (the idle timeout is on).
    var tracksIdleness: Bool { policy.idleTimeoutNanos > 0 }

    // MARK: fairness

    /// `c` used its read budget with input left: it stops reading and gets
    /// another budget's worth of what it holds in the next turn, after the
    /// connections that are ready then.
    func backlog(_ c: Connection) {
        guard !c.backlogged else { return }
        c.backlogged = true
        backloggedConnections.append(c)
        updateEvents(c)
    }

    /// Hands each backlogged connection its next budget (before sleep).
    func serveBacklogged() {
        guard !backloggedConnections.isEmpty else { return }
        let waiting = backloggedConnections
        backloggedConnections.removeAll(keepingCapacity: true)
        for c in waiting where c.backlogged {
            c.backlogged = false
            guard c.state == .awaitingHello || c.state == .established else { continue }
            c.readBudgetLeft = policy.readBudget
            if !c.paused {
                let used = processFrames(c, c.reader.readable)
                if c.state == .awaitingHello || c.state == .established { c.reader.consume(used) }
                if c.tls != nil && c.acceptsFrames { openRecords(c) }     // records still in the session
            }
            if c.state != .closed { updateEvents(c) }
        }
    }

    // MARK: backpressure

    func pause(_ c: Connection) {
        guard !c.paused else { return }
        c.paused = true
        metrics.ringFullEvents += 1
        pausedConnections.append(c)
        fan.reactorWaitsForRoom.store(true, ordering: .sequentiallyConsistent)
        updateEvents(c)
    }

    /// Paused readers go on once the inbound ring is below half.
    func resumePausedIfRoom() {
        guard !pausedConnections.isEmpty, inbound.count < inbound.capacity / 2 else { return }
        let waiting = pausedConnections
        pausedConnections.removeAll(keepingCapacity: true)
        for c in waiting where c.paused && c.state != .closed {
            c.paused = false
            c.readBudgetLeft = policy.readBudget
            let used = processFrames(c, c.reader.readable)
            if c.state == .awaitingHello || c.state == .established { c.reader.consume(used) }
            if c.tls != nil && c.acceptsFrames { openRecords(c) }   // records held back while paused
            if c.state != .closed { updateEvents(c) }
        }
        if !pausedConnections.isEmpty { fan.reactorWaitsForRoom.store(true, ordering: .sequentiallyConsistent) }
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
        c.writes.append(frame)
        metrics.framesOut += 1
        if !c.dirty {
            c.dirty = true
            dirtyConnections.append(c)
        }
        return true
    }

    func flushDirty() {
        guard !dirtyConnections.isEmpty else { return }
        for c in dirtyConnections where c.dirty {
            c.dirty = false
            if c.state != .closed { flush(c) }
        }
        dirtyConnections.removeAll(keepingCapacity: true)
    }

    /// Writes what is queued with gathered sends; arms EPOLLOUT only while bytes wait.
    func flush(_ c: Connection) {
        var sent = 0
        let result = c.tls == nil ? c.writes.flush(fd: c.fd, iovecs: iovecs, maxIovecs: maxIovecs, sent: &sent)
                                  : sealAndSend(c, sent: &sent)
        c.bytesOut += sent
        metrics.bytesOut += sent
        switch result {
        case .failed(let err):
            close(c, c.state == .closing ? (c.closeCause ?? .ioError) : .ioError,
                  detail: c.state == .closing ? c.closeDetail : "write: \(String(cString: strerror(err)))")
            return
        case .drained:
            if c.state == .closing && !c.shutWrite {
                Syscall.shutdownWrite(c.fd)            // the reason is out: wait for the peer's close
                c.shutWrite = true
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
            c.registeredEvents = wanted
        }
    }

    // MARK: close

    /// DISC_DISCONNECT with a reason, then close once it is out — after the
    /// peer closed, or after a short linger. Input is discarded meanwhile so
    /// the close never becomes a reset that destroys the reason in flight.
    func disconnect(_ c: Connection, _ cause: CloseCause, reason: String, detail: String? = nil) {
        guard c.state != .closing, c.state != .closed else { return }
        // Before the link carries frames (connect or TLS handshake under way) there is no one to tell.
        if c.state == .connecting || c.state == .securing { close(c, cause, detail: detail ?? reason); return }
        c.state = .closing
        c.closeCause = cause
        c.closeDetail = detail ?? reason
        c.paused = false
        c.backlogged = false
        c.reader.release()
        let text = Array(reason.utf8.prefix(256))
        send(Message(type: .discDisconnect, payload: text).storage, on: c)
        if c.state == .closed { return }
        leaveRegistry(c)
        flush(c)
        schedule(for: c, afterNanos: policy.goodbyeLingerNanos) { c in
            guard c.state == .closing else { return }
            self.close(c, c.closeCause ?? .ioError, detail: c.closeDetail)
        }
    }

    /// Closes at once. Logged once, counted by cause.
    func close(_ c: Connection, _ cause: CloseCause, detail: String) {
        guard c.state != .closed else { return }
        let wasEstablished = c.state == .established
        let final = c.closeCause ?? cause
        c.state = .closed
        leaveRegistry(c)
        loop.unregister(c.fd)
        Syscall.close(c.fd)
        c.reader.release()
        c.writes.removeAll()
        c.sealed.removeAll()
        c.tls = nil
        links.remove(c)
        metrics.closed[final, default: 0] += 1
        let level: Logger.Level = shuttingDown || final == .peerClosed || final == .peerDisconnect ? .info : .warning
        logger.log(level: level, "closed \(c.displayName) (\(c.peer?.address ?? c.remoteAddress)): \(detail.isEmpty ? final.rawValue : detail)",
                   metadata: ["peer": "\(c.displayName)", "address": "\(c.peer?.address ?? c.remoteAddress)",
                              "direction": "\(c.direction.rawValue)", "cause": "\(final.rawValue)"])
        discovery.connectionClosed(c, cause: final, wasEstablished: wasEstablished)
    }

    /// Removes an established peer from the registry, so broadcasts skip it.
    func leaveRegistry(_ c: Connection) {
        if links.leave(c) { directory.closed(c.peerID) }
    }
}
