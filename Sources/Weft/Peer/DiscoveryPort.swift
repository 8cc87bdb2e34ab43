/// What discovery may do and see, and nothing more: dial an address, send a
/// frame, look at the established peers, use the reactor's timers and task
/// queue. Every call goes down, to the link layer and the reactor.
final class DiscoveryPort: @unchecked Sendable {   // used on the reactor thread; runOnReactor from any
    private let links: LinkIO
    private let sessions: PeerSessions
    private let dialer: Dialer
    private let tasks: ReactorTasks
    let identity: SelfIdentity

    init(links: LinkIO, sessions: PeerSessions, dialer: Dialer, tasks: ReactorTasks, identity: SelfIdentity) {
        self.links = links
        self.sessions = sessions
        self.dialer = dialer
        self.tasks = tasks
        self.identity = identity
    }

    var selfName: String { identity.name }
    var selfType: PeerType { identity.type }
    var advertisedAddress: String { identity.advertisedAddress }
    var isShuttingDown: Bool { links.shuttingDown }

    var establishedPeers: Dictionary<String, Connection>.Values { sessions.byName.values }
    var establishedCount: Int { sessions.establishedCount }
    func established(named name: String) -> Connection? { sessions.established(named: name) }
    func isEstablished(_ c: Connection) -> Bool { sessions.isEstablished(c.handle) }
    /// The peer `c` carries, once its hello was accepted.
    func peer(of c: Connection) -> PeerInfo? { sessions.peer(of: c.handle) }
    /// Its peer's name, or "" before its hello.
    func name(of c: Connection) -> String { sessions.name(of: c.handle) }
    func connection(_ handle: ConnectionHandle) -> Connection? { links.table.connection(handle) }

    func send(_ frame: FrameStorage, on c: Connection) { links.send(frame, on: c) }
    func schedule(afterNanos delay: UInt64, _ action: @escaping () -> Void) { links.loop.schedule(afterNanos: delay, action) }
    func runOnReactor(_ task: @escaping () -> Void) { tasks.submit(task) }
    func countDecodeError() { links.metrics.decodeErrors += 1 }

    /// Starts a non-blocking connect to `address` for the known address `name`.
    func dial(_ address: SocketAddress, as name: String) -> Result<ConnectionHandle, Dialer.Failure> {
        dialer.dial(address, as: name)
    }
}
