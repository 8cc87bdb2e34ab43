import Glibc
import Logging

/// Closing a link: with a goodbye (DISC_DISCONNECT, then close once it is
/// out) or at once; each close logged once and counted by cause.
extension LinkIO {
    /// DISC_DISCONNECT with a reason, then close once it is out — after the
    /// peer closed, or after a short linger. Input is discarded meanwhile so
    /// the close never becomes a reset that destroys the reason in flight.
    func disconnect(_ c: Connection, _ cause: CloseCause, reason: String, detail: String? = nil) {
        guard c.state != .closing, c.state != .closed else { return }
        // Before the link carries frames (connect or TLS handshake under way) there is no one to tell.
        if c.state == .connecting || c.state == .securing { close(c, cause, detail: detail ?? reason); return }
        c.beginClosing(cause, detail: detail ?? reason)
        c.paused = false
        c.backlogged = false
        c.reader.release()
        send(Message(type: .discDisconnect, payload: Array(reason.utf8.prefix(256))).storage, on: c)
        if c.state == .closed { return }
        leaveByName(c)
        flush(c)
        schedule(for: c, afterNanos: policy.goodbyeLingerNanos) { [unowned self] c in
            guard c.state == .closing else { return }
            self.close(c, c.closeCause ?? .ioError, detail: c.closeDetail)
        }
    }

    /// Closes at once. Logged once, counted by cause.
    func close(_ c: Connection, _ cause: CloseCause, detail: String) {
        guard c.state != .closed else { return }
        let wasEstablished = c.state == .established
        let final = c.closeCause ?? cause
        c.markClosed()
        leaveByName(c)
        loop.unregister(c.fd)
        Syscall.close(c.fd)
        c.reader.release()
        c.writes.removeAll()
        c.sealed.removeAll()
        c.tls = nil
        table.remove(c)
        metrics.closed[final, default: 0] += 1
        let level: Logger.Level = shuttingDown || final == .peerClosed || final == .peerDisconnect ? .info : .warning
        logger.log(level: level, "closed \(c.displayName) (\(c.peer?.address ?? c.remoteAddress)): \(detail.isEmpty ? final.rawValue : detail)",
                   metadata: ["peer": "\(c.displayName)", "address": "\(c.peer?.address ?? c.remoteAddress)",
                              "direction": "\(c.direction.rawValue)", "cause": "\(final.rawValue)"])
        events.closed(c, cause: final, wasEstablished: wasEstablished)
    }

    /// An established peer stops being one (closing): out of the by-name
    /// index, and the layer above is told, so broadcasts skip it.
    private func leaveByName(_ c: Connection) {
        if table.leave(c) { events.left(c) }
    }
}
