import Foundation
import Glibc

/// One blocking client connection to a peer's port, plain or TLS, whose every
/// step is bounded by one deadline (a monotonic instant): connect, the TLS
/// handshake, each write and each read wait with `poll` for what is left of
/// it. For clients that may block (`weft tx submit`, the REST server's
/// threads), never the reactor.
public final class ClientConnection {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// True when the deadline passed (rather than the peer failing).
        public let timedOut: Bool
        init(_ description: String, timedOut: Bool = false) { self.description = description; self.timedOut = timedOut }
    }

    private let fd: Int32
    private var tls: TLSSession?
    private var reader = FrameReader()
    private let maxFrameSize: Int
    private var closed = false

    /// Connects to `target` (each resolved address in turn) and, with `tls`,
    /// hand-shakes, all before `deadline` (MonotonicClock nanoseconds).
    package init(target: HostPort, tls: TLSContext?, deadline: UInt64, maxFrameSize: Int = FrameFormat.defaultMaxFrameSize) throws {
        self.maxFrameSize = maxFrameSize
        let addresses: [SocketAddress]
        do { addresses = try target.resolve() } catch { throw Failure("cannot resolve \(target): \(error)") }
        var lastError = "no address for \(target)"
        var connected: Int32 = -1
        for address in addresses {
            do { connected = try ClientConnection.connect(address, deadline: deadline); break } catch let failure as Failure {
                if failure.timedOut { throw failure }
                lastError = failure.description
            }
        }
        guard connected >= 0 else { throw Failure(lastError) }
        fd = connected
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let tls {
            do { try handshake(tls, deadline: deadline) } catch { close(); throw error }
        }
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        reader.release()
        Syscall.close(fd)
    }

    /// Sends one frame (a `Message`'s storage) whole.
    public func send(_ message: Message, deadline: UInt64) throws {
        try sendPlain(message.storage.frame, deadline: deadline)
    }

    /// No more from this side (TCP half-close): the peer reads what was sent, then end of stream.
    public func finishSending() { Syscall.shutdownWrite(fd) }

    /// The next message from the peer; throws on end of stream, a bad frame, or the deadline.
    public func receive(deadline: UInt64) throws -> Message {
        while true {
            let buffered = reader.readable
            switch FrameCursor.next(in: buffered, at: 0, maxFrameSize: maxFrameSize) {
            case .frame(let at, let count):
                let body = UnsafeRawBufferPointer(rebasing: buffered[(at + 4)..<(at + 4 + count)])
                let message: Message
                do { message = try Message(encoded: body) } catch { throw Failure("the peer sent a frame that is not a protos.Message") }
                reader.consume(at + 4 + count)
                return message
            case .tooLarge(let n): throw Failure("the peer sent a frame of \(n) bytes, over the \(maxFrameSize) limit")
            case .incomplete: try fill(deadline: deadline)
            }
        }
    }

    // MARK: bytes

    /// Reads once (after waiting for input) into the frame reader, through TLS when on.
    private func fill(deadline: UInt64) throws {
        if let tls {
            if try openRecord(tls) { return }
            try feed(tls, deadline: deadline)
            _ = try openRecord(tls)
        } else {
            reader.commit(try readSocket(into: reader.writable(minimum: 16 * 1024), deadline: deadline))
        }
    }

    /// Decrypts what whole records the session holds; whether any plaintext came.
    private func openRecord(_ tls: TLSSession) throws -> Bool {
        var any = false
        while true {
            switch tls.read(into: reader.writable(minimum: TLSSession.maxRecordSize)) {
            case .bytes(let n): reader.commit(n); any = true
            case .needInput: return any
            case .closed: if any { return true }; throw Failure("the peer closed the TLS session")
            case .failed(let why): throw Failure("TLS: \(why)")
            }
        }
    }

    /// Reads ciphertext into the TLS session.
    private func feed(_ tls: TLSSession, deadline: UInt64) throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = try chunk.withUnsafeMutableBytes { try readSocket(into: $0, deadline: deadline) }
        chunk.withUnsafeBytes { tls.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
    }

    private func readSocket(into space: UnsafeMutableRawBufferPointer, deadline: UInt64) throws -> Int {
        while true {
            try wait(for: Int16(POLLIN), deadline: deadline, doing: "waiting for the peer's answer")
            let n = recv(fd, space.baseAddress, space.count, Int32(MSG_DONTWAIT))
            if n > 0 { return n }
            if n == 0 { throw Failure("the peer closed the connection") }
            if errno == EAGAIN || errno == EINTR { continue }
            throw Failure("read: \(String(cString: strerror(errno)))")
        }
    }

    private func sendPlain(_ bytes: UnsafeRawBufferPointer, deadline: UInt64) throws {
        if let tls {
            guard tls.write(bytes) else { throw Failure("TLS: cannot seal a record") }
            try sendSealed(tls, deadline: deadline)
        } else {
            try writeAll(bytes, deadline: deadline)
        }
    }

    private func sendSealed(_ tls: TLSSession, deadline: UInt64) throws {
        while case let pending = tls.pendingOutput, pending > 0 {
            var sealed = [UInt8](repeating: 0, count: pending)
            let n = sealed.withUnsafeMutableBytes { tls.takeOutput(into: $0.baseAddress!, count: pending) }
            try sealed.withUnsafeBytes { try writeAll(UnsafeRawBufferPointer(rebasing: $0[..<n]), deadline: deadline) }
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: UInt64) throws {
        var sent = 0
        while sent < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline, doing: "sending to the peer")
            let n = Glibc.send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            if n <= 0 { throw Failure("write: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private func handshake(_ context: TLSContext, deadline: UInt64) throws {
        let session: TLSSession
        do { session = try TLSSession(context: context, role: .client) } catch { throw Failure("TLS: \(error)") }
        tls = session
        while true {
            let progress = session.handshake()
            try sendSealed(session, deadline: deadline)
            switch progress {
            case .done: return
            case .failed(let why): throw Failure("TLS handshake failed: \(why)")
            case .inProgress: try feed(session, deadline: deadline)
            }
        }
    }

    /// Waits until `fd` is ready for `events`, or throws when the deadline passes.
    private func wait(for events: Int16, deadline: UInt64, doing what: String) throws {
        try ClientConnection.poll(fd, events: events, deadline: deadline, doing: what)
    }

    private static func poll(_ fd: Int32, events: Int16, deadline: UInt64, doing what: String) throws {
        guard DeadlinePoll.wait(fd, events: events, deadline: deadline) else {
            throw Failure("no answer in time (\(what))", timedOut: true)
        }
    }

    /// A non-blocking connect bounded by the deadline; the socket is left blocking-free (MSG_DONTWAIT sends, polled reads).
    private static func connect(_ address: SocketAddress, deadline: UInt64) throws -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            let reason = String(cString: strerror(errno))
            Syscall.close(fd)
            throw Failure("cannot connect to \(address): \(reason)")
        }
        do { try poll(fd, events: Int16(POLLOUT), deadline: deadline, doing: "connecting to \(address)") } catch {
            Syscall.close(fd)
            throw error
        }
        var err: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size)
        guard err == 0 else {
            Syscall.close(fd)
            throw Failure("cannot connect to \(address): \(String(cString: strerror(err)))")
        }
        return fd
    }
}
