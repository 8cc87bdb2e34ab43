import Glibc
import Logging

/// What discovery may do and see, and nothing more: dial an address, send a
/// frame, look at the established peers, use the reactor's timers and task
/// queue. The one upward idiom of the peer: a small final class holding its
/// owner without a reference count (the node owns it and outlives it).
final class DiscoveryPort: @unchecked Sendable {   // used on the reactor thread; runOnReactor from any
    enum DialFailure: Error { case failed(String); var text: String { if case .failed(let t) = self { return t }; return "" } }

    unowned(unsafe) let node: Node
    init(node: Node) { self.node = node }

    var selfName: String { node.name }
    var selfType: PeerType { node.selfType }
    var advertisedAddress: String { node.advertisedAddress }
    var isShuttingDown: Bool { node.shuttingDown }

    var establishedPeers: Dictionary<String, Connection>.Values { node.links.byName.values }
    var establishedCount: Int { node.links.establishedCount }
    func established(named name: String) -> Connection? { node.links.established(named: name) }
    func connection(_ handle: ConnectionHandle) -> Connection? { node.links.connection(handle) }

    func send(_ frame: FrameStorage, on c: Connection) { node.send(frame, on: c) }
    func schedule(afterNanos delay: UInt64, _ action: @escaping () -> Void) { node.loop.schedule(afterNanos: delay, action) }
    func runOnReactor(_ task: @escaping () -> Void) { node.runOnReactor(task) }
    func countDecodeError() { node.metrics.decodeErrors += 1 }

    /// Starts a non-blocking connect to `address` for the known address `name`;
    /// the handle of the new connection.
    func dial(_ address: SocketAddress, as name: String) -> Result<ConnectionHandle, DialFailure> {
        guard let handle = node.links.reserve() else { return .failure(.failed("connection limit reached")) }
        do {
            let (fd, connected) = try Sockets.startConnect(to: address)
            node.applyConnectionOptions(fd)
            let c = Connection(fd: fd, handle: handle, direction: .outbound, state: .connecting,
                               remoteAddress: name)
            c.dialedAddress = name
            node.metrics.dialed += 1
            node.adopt(c)
            if connected { node.finishConnect(c) }
            return .success(handle)
        } catch {
            node.links.release(handle)
            return .failure(.failed("\(error)"))
        }
    }
}

extension Node {
    /// Completes a non-blocking connect and sends our DISC_HELLO first.
    func finishConnect(_ c: Connection) {
        guard c.state == .connecting else { return }
        let err = Sockets.pendingError(c.fd)
        guard err == 0 else {
            close(c, .connectFailed, detail: "connect to \(c.remoteAddress): \(String(cString: strerror(err)))")
            return
        }
        if tlsContext != nil {
            c.state = .securing
            beginTLS(c, role: .client)       // the hello follows the TLS handshake
            return
        }
        c.state = .awaitingHello
        sendHello(c)
    }

    /// Our DISC_HELLO, first thing on a dialed connection.
    func sendHello(_ c: Connection) {
        send(helloFrame(), on: c)
        if c.state != .closed { flush(c) }
    }

    /// Runs `task` on the reactor thread soon (from any thread).
    /// Runs `task` on the reactor thread soon (from any thread). The task may
    /// capture reactor-owned state: it only ever runs on the reactor.
    func runOnReactor(_ task: @escaping () -> Void) {
        let wrapped = ReactorTask(run: task)
        reactorTasks.withLock { $0.append(wrapped) }
        hasReactorTasks.store(true, ordering: .releasing)
        reactorWaker.forceWake()
    }

    func runReactorTasks() {
        guard hasReactorTasks.load(ordering: .acquiring) else { return }
        let tasks = reactorTasks.withLock { tasks -> [ReactorTask] in
            hasReactorTasks.store(false, ordering: .relaxed)
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { task.run() }
    }
}

