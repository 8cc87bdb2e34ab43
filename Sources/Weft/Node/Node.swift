import CWeftLinux
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// A Weft peer: the composition root. It builds the layers, from the bottom
/// up, wires the few calls that go up, runs the reactor's turn in a fixed
/// order, and starts and stops the whole.
///
///     reactor ─ frames → links → peer layer ─ handler chain ─ CONSENSUS → inbound ring → fan → consenter
///     reactor ← writev ─ links ← outbound router ←──────────────────────── outbound ring ← Communicator
///
/// Layers, each calling only down: Reactor (EventLoop, Syscalls, ReactorTasks)
/// ← Link (LinkIO, Listener, Dialer, LinkTable) ← Peer (PeerLayer, handler
/// chain, Discovery) ← Engine (ConsensusHandler, ConsensusFan,
/// OutboundRouter) ← Consenters. Calls up go through a small final class
/// holding its owner as `Upward` (`LinkEvents`, `ConnectionEvents`,
/// `HandlerChain`, `ReactorTurn`).
///
/// Create it, `start()` it (binds, then runs the reactor on its own thread),
/// `stop()` it (graceful, PROTOCOL.md section 7) — or `run()` on a thread of
/// your own.
public final class Node: @unchecked Sendable {
    public let config: PeerConfig
    let logger: Logger
    let consenter: Consenter

    // Reactor.
    let loop: EventLoop
    let reactorWaker: EventWaker
    let reactorTasks: ReactorTasks
    let metrics = ReactorMetrics()

    // Links.
    let links: LinkIO
    let listener: Listener
    let dialer: Dialer
    /// The address bound (port 0 resolved).
    public let boundAddress: HostPort

    // Peer protocol.
    let identity: SelfIdentity
    /// Each connection's peer session (hello, name, type), by slot.
    let sessions: PeerSessions
    let discovery: Discovery
    /// Owned here: the links and the handler chain hold them as `Upward`.
    private let peerLayer: PeerLayer
    private let peerHandler: PeerHandler

    // Engine: the consensus path.
    let directory: PeerDirectory
    let inbound: SPSCRing<InboundItem>
    let outbound: SPSCRing<OutboundItem>
    /// Inbound frames reused once the reactor is done with them.
    let framePool: FramePool
    let communicator: FanCommunicator
    let fan: ConsensusFan
    let consensusHandler: ConsensusHandler
    let router: OutboundRouter

    var operations: OperationsServer?
    /// Fabric v0.6's REST API, on threads of its own (`rest.*`).
    var rest: RESTServer?

    // Lifecycle.
    private let stopRequested = Atomic<Bool>(false)
    private let stoppedLatch = DispatchSemaphore(value: 0)
    private var reactorThread: Thread?
    public let startedAt = Date()

    /// Builds the peer and binds its listening sockets (so the address is
    /// known, and a busy port fails here, before anything runs).
    public init(config: PeerConfig, consenter: Consenter, logger: Logger) throws {
        self.config = config
        self.consenter = consenter
        self.logger = logger

        loop = try EventLoop()
        reactorWaker = try EventWaker()
        reactorTasks = ReactorTasks(waker: reactorWaker)

        let slots = config.limits.maxConnections
        inbound = SPSCRing(capacity: config.consensus.bufferSize)
        let policy = LinkPolicy(config, ringCapacity: inbound.capacity)
        if policy.readBudget < config.limits.readBudget {
            logger.notice("peer.limits.readBudget \(config.limits.readBudget) is capped at \(policy.readBudget): a quarter of the consensus ring (\(inbound.capacity) messages)")
        }
        let tlsContext = config.tls.enabled ? try TLSContext(config.tls, expectedName: config.peerID) : nil
        links = LinkIO(loop: loop, table: LinkTable(capacity: slots), policy: policy, socketOptions: config.socket,
                       tlsContext: tlsContext, metrics: metrics, logger: logger)
        guard let listen = HostPort(config.listenAddress, allowPortZero: true) else {
            throw ConfigError(key: "peer.listenAddress", reason: "'\(config.listenAddress)' is not host:port")
        }
        listener = try Listener(address: listen, options: config.socket, links: links)
        boundAddress = try listener.boundAddress()
        dialer = Dialer(links: links)

        identity = SelfIdentity(name: config.peerID, type: config.validatorEnabled ? .validator : .nonValidator,
                                advertisedAddress: config.address.isEmpty ? SelfIdentity.advertisable(boundAddress) : config.address)
        sessions = PeerSessions(slotCount: slots)
        discovery = Discovery(port: DiscoveryPort(links: links, sessions: sessions, dialer: dialer, tasks: reactorTasks,
                                                  identity: identity),
                              config: config.discovery, dataDirectory: config.fileSystemPath, logger: logger)

        directory = PeerDirectory(slotCount: slots)
        // Replies can outnumber requests (broadcasts): give the way back more room.
        outbound = SPSCRing(capacity: max(4096, inbound.capacity * 4))
        framePool = FramePool(limit: inbound.capacity)
        communicator = FanCommunicator(outbound: outbound, directory: directory, reactorWaker: reactorWaker)
        fan = ConsensusFan(consenter: consenter, inbound: inbound, communicator: communicator,
                           reactorWaker: reactorWaker, slotCount: slots, label: "weft.consensus-fan")
        consensusHandler = ConsensusHandler(ring: inbound, framePool: framePool, fan: fan, links: links, sessions: sessions,
                                            overflow: config.consensus.overflow, slotCount: slots)
        router = OutboundRouter(outbound: outbound, links: links, sessions: sessions, framePool: framePool)

        peerHandler = PeerHandler(links: links, sessions: sessions, discovery: discovery)
        peerLayer = PeerLayer(links: links, sessions: sessions, directory: directory, discovery: discovery,
                              chain: HandlerChain(consensusHandler, peerHandler), chainHeight: consenter,
                              identity: identity, logger: logger)
        links.events.attach(peerLayer)

        if !config.operationsListenAddress.isEmpty {
            operations = try OperationsServer(node: self, address: config.operationsListenAddress)
        }
        // As Fabric's: a REST port that cannot be bound is logged, and the peer goes on without it.
        do { rest = try makeRESTServer() } catch { logger.error("REST API not started: \(error)") }
        loop.hooks = ReactorTurn(node: self)
    }

    public var name: String { config.peerID }
    /// What this peer advertises in DISC_HELLO.
    public var advertisedAddress: String { identity.advertisedAddress }
    var selfType: PeerType { identity.type }
    var shuttingDown: Bool { links.shuttingDown }

    /// The operations endpoint's bound address, if it is on.
    public var operationsAddress: HostPort? { operations?.boundAddress }

    /// The REST API's bound address, if it is on.
    public var restAddress: HostPort? { rest?.boundAddress }

    // MARK: lifecycle

    /// Runs the reactor on a new thread and returns.
    public func start() throws {
        try startConsenter()
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "weft-reactor"
        thread.stackSize = 1 << 20
        reactorThread = thread
        thread.start()
    }

    /// Runs the reactor on the calling thread until the node has stopped.
    public func run() throws {
        try startConsenter()
        runLoop()
    }

    /// Asks the reactor to shut down gracefully (any thread, any number of times).
    public func stop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        reactorWaker.forceWake()
    }

    /// Blocks until the reactor has finished its shutdown.
    public func waitUntilStopped() {
        stoppedLatch.wait()
        stoppedLatch.signal()
    }

    private func startConsenter() throws {
        let context = FanContext(queue: fan.queue, communicator: communicator,
                                 selfID: PeerID(name: name), dataDirectory: config.fileSystemPath)
        var failure: Error?
        fan.queue.sync {
            do { try consenter.start(context) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func runLoop() {
        do {
            try listener.register()
            try loop.register(reactorWaker.fd, events: Readiness.readable, handler: reactorWaker)
            try operations?.register()
        } catch {
            logger.critical("cannot start the reactor: \(error)")
            stoppedLatch.signal()
            return
        }
        logger.info("peer started", metadata: [
            "peer": "\(name)", "listen": "\(boundAddress)", "address": "\(advertisedAddress)",
            "type": "\(selfType)", "consensus": "\(config.consensus.plugin)",
            "operations": "\(operations?.boundAddress.description ?? "off")",
            "rest": "\(rest?.boundAddress.description ?? "off")",
        ])
        rest?.start()
        discovery.start()
        loop.run()
        shutdown()
        stoppedLatch.signal()
    }

    // MARK: the loop's turn

    /// Runs before every `epoll_wait`, in this order: tasks from other
    /// threads; the fan told of new messages; the consenter's sends routed;
    /// paused readers resumed if the ring has room; backlogged readers served
    /// their next budget; the fan told again; every queued write flushed.
    /// Returns true when there is work that must not wait for I/O.
    func beforeSleep() -> Bool {
        if stopRequested.load(ordering: .relaxed) && !shuttingDown {
            loop.stop()
            return true
        }
        reactorTasks.runPending()
        consensusHandler.notifyFanIfPushed()
        router.drain()
        resumePausedIfRoom()
        links.serveBacklogged()
        consensusHandler.notifyFanIfPushed()
        links.flushDirty()
        reactorWaker.announceSleep()
        if !outbound.isEmpty || links.hasBacklog || (!links.paused.isEmpty && ringHasRoom)
            || stopRequested.load(ordering: .relaxed) || reactorTasks.hasPending {
            reactorWaker.cancelSleep()
            return true
        }
        return false
    }

    /// Readers paused by a full ring go on once it is below half.
    private var ringHasRoom: Bool { inbound.count < inbound.capacity / 2 }

    private func resumePausedIfRoom() {
        guard !links.paused.isEmpty, ringHasRoom else { return }
        links.resumePaused()
        // Paused again (the ring filled up): the fan wakes the reactor when it drained it.
        if !links.paused.isEmpty { fan.reactorWaitsForRoom.store(true, ordering: .sequentiallyConsistent) }
    }
}
