import Glibc

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
        send(Message(type: .discDisconnect, payload: Array(reason.utf8.prefix(256))).storage, on: c)
        if c.state == .closed { return }
        events.closing(c)
        flush(c)
        schedule(for: c, afterNanos: policy.goodbyeLingerNanos) { [unowned self] c in
            guard c.state == .closing else { return }
            self.close(c, c.closeCause ?? .ioError, detail: c.closeDetail)
        }
    }

    /// Closes at once. Counted by cause; the layer above, which knows whom
    /// the link carried, logs it once.
    func close(_ c: Connection, _ cause: CloseCause, detail: String) {
        guard c.state != .closed else { return }
        let final = c.closeCause ?? cause
        c.markClosed()
        loop.unregister(c.fd)
        Syscall.close(c.fd)
        table.remove(c)
        metrics.closed[final, default: 0] += 1
        events.closed(c, cause: final, detail: detail.isEmpty ? final.rawValue : detail)
    }
}
