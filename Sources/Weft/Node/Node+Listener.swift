import CWeftLinux
import Glibc
import Logging

/// Accepting: the listener's events, the connection limit, shedding when
/// the process is out of descriptors, the socket knobs of a new connection.
extension Node {
    func acceptConnections() {
        let now = MonotonicClock.now()
        guard now >= acceptPausedUntil, !shuttingDown else { return }
        for _ in 0..<64 {
            let fd: Int32
            switch Syscall.accept(listenerFD) {
            case .accepted(let accepted): fd = accepted
            case .none: return
            case .outOfDescriptors(let err): shedWithoutDescriptors(err); return
            case .failed(let err):
                metrics.acceptErrors += 1
                logger.warning("accept failed: \(String(cString: strerror(err)))")
                return
            }
            metrics.accepted += 1
            let remote = SocketAddress.remote(of: fd)?.description ?? "?"
            guard let handle = links.reserve() else {
                metrics.closed[.connectionLimit, default: 0] += 1
                logger.warning("closed connection from \(remote): connection limit (\(config.limits.maxConnections)) reached")
                Syscall.close(fd)
                continue
            }
            applyConnectionOptions(fd)
            let c = Connection(fd: fd, handle: handle, direction: .inbound, state: tlsContext == nil ? .awaitingHello : .securing,
                               remoteAddress: remote)
            adopt(c)
            if c.state == .securing { beginTLS(c, role: .server) }
            logger.debug("accepted connection", metadata: ["from": "\(remote)", "fd": "\(fd)"])
        }
    }

    /// Out of descriptors: accept with the spare one and close at once, so the
    /// backlog does not keep the listener readable (and the loop spinning);
    /// then stop accepting for a moment.
    private func shedWithoutDescriptors(_ err: Int32) {
        metrics.acceptErrors += 1
        if spareFD >= 0 {
            Syscall.close(spareFD)
            if case .accepted(let fd) = Syscall.accept(listenerFD, nonBlocking: false) {
                Syscall.close(fd)
                metrics.closed[.connectionLimit, default: 0] += 1
            }
            spareFD = Syscall.openSpare()
        }
        logger.error("accept: \(String(cString: strerror(err))); shedding connections for 100 ms")
        acceptPausedUntil = MonotonicClock.now() + 100_000_000
        loop.modify(listenerFD, events: 0)
        loop.schedule(afterNanos: 100_000_000) { [unowned self] in
            guard !self.shuttingDown else { return }
            self.loop.modify(self.listenerFD, events: Readiness.readable)
        }
    }

    func applyConnectionOptions(_ fd: Int32) {
        for failure in config.socket.applyToConnection(fd) {
            metrics.socketOptionFailures += 1
            logger.warning("cannot set socket option", metadata: ["knob": "\(failure)"])
        }
    }
}

/// A connection's events, to the node: the link layer's one call up. The
/// event loop's registration holds it, and it holds the connection, so a
/// connection closed by its own event lives until that event is handled; a
/// connection knows nothing above it. The node, which outlives every
/// registration, is held without a reference count.
final class ConnectionEvents: EventHandler {
    unowned(unsafe) let node: Node
    let connection: Connection
    init(node: Node, connection: Connection) { self.node = node; self.connection = connection }
    func handleEvents(_ events: UInt32) { node.connectionReady(connection, events: events) }
}

/// The listening socket's events.
final class ListenerHandler: EventHandler {
    unowned(unsafe) let node: Node
    init(node: Node) { self.node = node }
    func handleEvents(_ events: UInt32) { node.acceptConnections() }
}

/// The reactor's eventfd: a wake-up only; the work is done in `beforeSleep`.
final class WakerHandler: EventHandler {
    let waker: EventWaker
    init(waker: EventWaker) { self.waker = waker }
    func handleEvents(_ events: UInt32) { waker.drain() }
}
