import Glibc
import Logging

/// TLS on peer links (`peer.tls.enabled`): the handshake, then records in
/// and out, all on the reactor thread without blocking it. OpenSSL works on
/// memory buffers only (`TLSSession`); the reactor still does the reads and
/// the gathered sends.
///
///     recv → feed → handshake / open records → frames → handler chain
///     send → plaintext write queue → seal at flush → sealed queue → sendmsg
extension LinkIO {
    /// Starts the TLS handshake on a connected socket (state `.securing`).
    func beginTLS(_ c: Connection, role: TLSSession.Role) {
        guard let tlsContext else { return }
        do {
            c.securing(with: try TLSSession(context: tlsContext, role: role))
        } catch {
            close(c, .tlsHandshake, detail: "cannot start TLS: \(error)")
            return
        }
        continueHandshake(c)        // a client speaks first: its ClientHello goes out now
    }

    func continueHandshake(_ c: Connection) {
        guard let tls = c.tls else { return }
        switch tls.handshake() {
        case .inProgress:
            flush(c)
        case .done:
            metrics.tlsHandshakes += 1
            c.linkUp()
            logger.debug("TLS established", metadata: [
                "address": "\(c.remoteAddress)", "direction": "\(c.direction.rawValue)",
                "version": "\(tls.protocolVersion)", "cipher": "\(tls.cipherName)",
                "peer_certificate": "\(tls.hasPeerCertificate)",
            ])
            events.linkReady(c)             // a dialer's hello goes out; an inbound link's last handshake bytes:
            if c.direction == .inbound && c.state != .closed { flush(c) }
        case .failed(let why):
            flush(c)                // OpenSSL's alert tells the other side why, best effort
            if c.state != .closed { close(c, .tlsHandshake, detail: "TLS handshake with \(c.remoteAddress) failed: \(why)") }
        }
    }

    /// One read of ciphertext per readiness (level-triggered, as for plain
    /// links), then every whole record it completed.
    func readableTLS(_ c: Connection) {
        guard let n = received(Syscall.receive(c.fd, into: scratch.baseAddress, count: scratch.count), on: c),
              let tls = c.tls else { return }
        tls.feed(UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
        if c.state == .securing {
            continueHandshake(c)
            guard c.state == .open else { return }
        }
        openRecords(c)
    }

    /// Decrypts buffered records one at a time and handles their frames, as
    /// the plain path does with what one `recv` returned: in place in the
    /// scratch buffer when nothing is pending, else behind the pending tail.
    /// Stops when the connection pauses (the rest stays in the session until
    /// the ring has room) or closes.
    func openRecords(_ c: Connection) {
        guard let tls = c.tls else { return }
        while c.acceptsFrames {
            switch c.reader.isEmpty ? openRecordInPlace(c, tls) : openRecordBehindTail(c, tls) {
            case .bytes:
                continue
            case .needInput:
                return
            case .closed:
                close(c, .peerClosed, detail: "peer closed the TLS session")
                return
            case .failed(let why):
                // In TLS 1.3 a client learns that its certificate was refused only here,
                // before the other side's first frame (its hello).
                close(c, c.hasDeliveredFrames ? .ioError : .tlsHandshake, detail: "TLS: \(why)")
                return
            }
        }
    }

    private func openRecordInPlace(_ c: Connection, _ tls: TLSSession) -> TLSSession.ReadResult {
        let result = tls.read(into: scratch)
        if case .bytes(let n) = result {
            let bytes = UnsafeRawBufferPointer(start: scratch.baseAddress, count: n)
            let used = processFrames(c, bytes)
            if c.carriesFrames, used < n {
                c.keepUnread(UnsafeRawBufferPointer(rebasing: bytes[used...]))
            }
        }
        return result
    }

    private func openRecordBehindTail(_ c: Connection, _ tls: TLSSession) -> TLSSession.ReadResult {
        let result = tls.read(into: c.readSpace(minimum: TLSSession.maxRecordSize))
        if case .bytes(let n) = result {
            c.commitRead(n)
            processBuffered(c)
        }
        return result
    }

    /// Seals the queued plaintext into TLS records (once established) and
    /// sends the ciphertext with the same gathered `sendmsg` as plain links.
    func sealAndSend(_ c: Connection, sent: inout Int) -> WriteQueue.FlushResult {
        guard let tls = c.tls else { return .failed(EINVAL) }
        if tls.isEstablished {
            guard c.sealQueued(into: tls) else { return .failed(EPROTO) }
            if c.state == .closing { tls.close() }           // close_notify after the DISC_DISCONNECT
        }
        return c.sendSealed(of: tls, iovecs: iovecs, maxIovecs: maxIovecs, sent: &sent)
    }
}
