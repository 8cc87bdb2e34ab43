import Glibc
import Weft

/// TLS over a blocking socket, for clients that may block: the load tool's
/// handshakes (before its sockets go non-blocking) and test clients.
package enum BlockingTLS {
    /// A client handshake; a receive timeout of `timeoutSeconds` (the
    /// socket's own is restored after) bounds the wait for each flight.
    package static func handshake(fd: Int32, context: TLSContext, timeoutSeconds: Int = 10) throws -> TLSSession {
        let session = try TLSSession(context: context, role: .client)
        var saved = timeval()
        var savedSize = socklen_t(MemoryLayout<timeval>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &saved, &savedSize)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        defer { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &saved, socklen_t(MemoryLayout<timeval>.size)) }
        while true {
            let progress = session.handshake()
            try sendPending(fd: fd, session: session)
            switch progress {
            case .done: return session
            case .failed(let why): throw TLSFailure(why)
            case .inProgress: try receive(fd: fd, session: session)
            }
        }
    }

    /// Seals `bytes` and sends the records.
    package static func send(fd: Int32, session: TLSSession, _ bytes: [UInt8]) throws {
        guard bytes.withUnsafeBytes({ session.write($0) }) else { throw TLSFailure("cannot seal a record") }
        try sendPending(fd: fd, session: session)
    }

    /// Reads what the socket has and feeds it to the session; throws on EOF
    /// ("EOF"), error or timeout.
    package static func receive(fd: Int32, session: TLSSession) throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 || (n < 0 && errno == ECONNRESET) { throw TLSFailure("EOF") }
        if n < 0 { throw TLSFailure("read: \(String(cString: strerror(errno)))") }
        chunk.withUnsafeBytes { session.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
    }

    private static func sendPending(fd: Int32, session: TLSSession) throws {
        let pending = session.pendingOutput
        guard pending > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: pending)
        let n = bytes.withUnsafeMutableBytes { session.takeOutput(into: $0.baseAddress!, count: pending) }
        try BlockingSocket.writeAll(fd, Array(bytes[..<n]))
    }
}
