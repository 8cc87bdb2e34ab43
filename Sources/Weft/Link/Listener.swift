import CWeftLinux
import Glibc
import Logging

/// The listening socket: accepting (up to 64 per readiness), the connection
/// limit, and shedding when the process is out of descriptors (EMFILE).
/// Each accepted socket becomes a `Connection` of the link layer.
final class Listener: EventHandler {
    private(set) var fd: Int32
    private let links: LinkIO
    private var metrics: ReactorMetrics { links.metrics }
    private var logger: Logger { links.logger }
    /// A descriptor kept open so that accept can shed a connection when the
    /// process runs out of descriptors instead of spinning.
    private var spareFD: Int32
    private var pausedUntil: UInt64 = 0

    /// Binds `address` (port 0 picks one) and listens; nothing is accepted
    /// until the listener is registered with the loop.
    init(address: HostPort, options: SocketOptions, links: LinkIO) throws {
        self.links = links
        let logger = links.logger
        fd = try Sockets.listen(on: address, options: options) { failures in
            for failure in failures {
                logger.warning("cannot set socket option on listener", metadata: ["knob": "\(failure.configKey)", "error": "\(failure)"])
            }
        }
        spareFD = Syscall.openSpare()
    }

    deinit {
        if fd >= 0 { Syscall.close(fd) }
        if spareFD >= 0 { Syscall.close(spareFD) }
    }

    /// The address bound (port 0 resolved).
    func boundAddress() throws -> HostPort {
        guard let local = SocketAddress.local(of: fd)?.hostPort else { throw SystemError(call: "getsockname", errno: errno) }
        return local
    }

    func register() throws { try links.loop.register(fd, events: Readiness.readable, handler: self) }

    /// Stops accepting for good (shutdown).
    func close() {
        guard fd >= 0 else { return }
        links.loop.unregister(fd)
        Syscall.close(fd)
        fd = -1
    }

    func handleEvents(_ events: UInt32) { acceptConnections() }

    private func acceptConnections() {
        guard fd >= 0, MonotonicClock.now() >= pausedUntil else { return }
        for _ in 0..<64 {
            let accepted: Int32
            switch Syscall.accept(fd) {
            case .accepted(let socket): accepted = socket
            case .none: return
            case .outOfDescriptors(let err): shedWithoutDescriptors(err); return
            case .failed(let err):
                metrics.acceptErrors += 1
                logger.warning("accept failed: \(String(cString: strerror(err)))")
                return
            }
            metrics.accepted += 1
            let remote = SocketAddress.remote(of: accepted)?.description ?? "?"
            guard let handle = links.table.reserve() else {
                metrics.closed[.connectionLimit, default: 0] += 1
                logger.warning("closed connection from \(remote): connection limit (\(links.table.capacity)) reached")
                Syscall.close(accepted)
                continue
            }
            links.applyConnectionOptions(accepted)
            links.adopt(Connection(fd: accepted, handle: handle, direction: .inbound,
                                   state: links.tlsContext == nil ? .open : .securing, remoteAddress: remote))
            logger.debug("accepted connection", metadata: ["from": "\(remote)", "fd": "\(accepted)"])
        }
    }

    /// Out of descriptors: accept with the spare one and close at once, so the
    /// backlog does not keep the listener readable (and the loop spinning);
    /// then stop accepting for a moment.
    private func shedWithoutDescriptors(_ err: Int32) {
        metrics.acceptErrors += 1
        if spareFD >= 0 {
            Syscall.close(spareFD)
            if case .accepted(let socket) = Syscall.accept(fd, nonBlocking: false) {
                Syscall.close(socket)
                metrics.closed[.connectionLimit, default: 0] += 1
            }
            spareFD = Syscall.openSpare()
        }
        logger.error("accept: \(String(cString: strerror(err))); shedding connections for 100 ms")
        pausedUntil = MonotonicClock.now() + 100_000_000
        links.loop.modify(fd, events: 0)
        links.loop.schedule(afterNanos: 100_000_000) { [weak self] in
            guard let self, self.fd >= 0 else { return }
            self.links.loop.modify(self.fd, events: Readiness.readable)
        }
    }
}
