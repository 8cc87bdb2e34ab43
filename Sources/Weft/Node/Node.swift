import CWeftLinux
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// A Weft peer: one reactor thread that owns every socket, the handler chain
/// run on it, and the consensus fan that feeds the consenter.
///
///     reactor ─frames→ handler chain ─CONSENSUS→ inbound ring → fan → consenter
///     reactor ←writev─ write queues ←─────────── outbound ring ←─ Communicator
///
/// Create it, `start()` it (binds, then runs the reactor on its own thread),
/// `stop()` it (graceful, PROTOCOL.md section 7) — or `run()` on a thread of
/// your own.
public final class Node: @unchecked Sendable {
    public let config: PeerConfig
    let logger: Logger
    /// The limits every link is held to (from `config`).
    let policy: LinkPolicy
    let loop: EventLoop
    let metrics = ReactorMetrics()
    let consenter: Consenter

    // Listening.
    var listenerFD: Int32 = -1
    /// The address bound (port 0 resolved).
    public private(set) var boundAddress: HostPort
    /// What this peer advertises in DISC_HELLO.
    public private(set) var advertisedAddress: String
    var selfType: PeerType { config.validatorEnabled ? .validator : .nonValidator }
    /// A descriptor kept open so that accept can shed a connection when the
    /// process runs out of descriptors (EMFILE) instead of spinning.
    var spareFD: Int32 = -1
    var acceptPausedUntil: UInt64 = 0

    /// Connections by slot and established peers by name.
    let links: LinkTable
    var openCount: Int { links.openCount }
    var establishedByName: [String: Connection] { links.byName }
    let directory: PeerDirectory

    // The consensus path.
    let inbound: SPSCRing<InboundItem>
    let outbound: SPSCRing<OutboundItem>
    let reactorWaker: EventWaker
    let communicator: FanCommunicator
    let fan: ConsensusFan
    /// The handler chain: `handlers` owns the links, `chain` walks them.
    private var handlers: (ConsensusHandler, PeerHandler)?
    @exclusivity(unchecked) var chain: HandlerChain!
    @exclusivity(unchecked) var pushedSinceNotify = 0
    @exclusivity(unchecked) var pausedConnections: [Connection] = []
    /// Connections that used their read budget with input left.
    @exclusivity(unchecked) var backloggedConnections: [Connection] = []
    @exclusivity(unchecked) var dirtyConnections: [Connection] = []

    // Buffers of the reactor thread.
    let scratch: UnsafeMutableRawBufferPointer
    /// Inbound frames reused once the reactor is done with them.
    let framePool: FramePool
    let iovecs: UnsafeMutablePointer<iovec>
    let maxIovecs = 64
    var cachedHello: (height: UInt64, frame: FrameStorage)?

    /// `peer.tls.enabled`: every peer link is TLS 1.3 with mutual authentication.
    let tlsContext: TLSContext?

    // Mesh.
    var discovery: Discovery!
    var operations: OperationsServer?

    /// Work handed to the reactor from other threads (name look-ups, stop).
    let reactorTasks = Mutex<[ReactorTask]>([])
    let hasReactorTasks = Atomic<Bool>(false)

    // Lifecycle.
    private let stopRequested = Atomic<Bool>(false)
    private let stoppedLatch = DispatchSemaphore(value: 0)
    private var reactorThread: Thread?
    public let startedAt = Date()
    var shuttingDown = false

    /// Builds the peer and binds its listening sockets (so the address is
    /// known, and a busy port fails here, before anything runs).
    public init(config: PeerConfig, consenter: Consenter, logger: Logger) throws {
        self.config = config
        self.consenter = consenter
        self.logger = logger
        policy = LinkPolicy(config)
        loop = try EventLoop()
        reactorWaker = try EventWaker()
        let slots = config.limits.maxConnections
        directory = PeerDirectory(slotCount: slots)
        links = LinkTable(capacity: slots)
        inbound = SPSCRing(capacity: config.consensus.bufferSize)
        // Replies can outnumber requests (broadcasts): give the way back more room.
        outbound = SPSCRing(capacity: max(4096, inbound.capacity * 4))
        communicator = FanCommunicator(outbound: outbound, directory: directory, reactorWaker: reactorWaker)
        fan = ConsensusFan(consenter: consenter, inbound: inbound, communicator: communicator,
                           reactorWaker: reactorWaker, slotCount: slots, label: "weft.consensus-fan")
        scratch = .allocate(byteCount: 256 * 1024, alignment: 64)
        framePool = FramePool(limit: inbound.capacity)
        iovecs = .allocate(capacity: maxIovecs)

        tlsContext = config.tls.enabled ? try TLSContext(config.tls, expectedName: config.peerID) : nil
        guard let listen = HostPort(config.listenAddress, allowPortZero: true) else {
            throw ConfigError(key: "peer.listenAddress", reason: "'\(config.listenAddress)' is not host:port")
        }
        let logger = self.logger
        listenerFD = try Sockets.listen(on: listen, options: config.socket) { failures in
            for failure in failures { logger.warning("cannot set socket option on listener", metadata: ["knob": "\(failure)"]) }
        }
        guard let local = SocketAddress.local(of: listenerFD)?.hostPort else {
            throw SystemError(call: "getsockname", errno: errno)
        }
        boundAddress = local
        advertisedAddress = config.address.isEmpty ? Node.advertisable(local) : config.address
        spareFD = Syscall.openSpare()

        let handlers = (ConsensusHandler(node: self), PeerHandler(node: self))
        self.handlers = handlers
        chain = HandlerChain(handlers.0, handlers.1)
        discovery = Discovery(port: DiscoveryPort(node: self), config: config.discovery,
                              dataDirectory: config.fileSystemPath, logger: logger)
        if !config.operationsListenAddress.isEmpty {
            operations = try OperationsServer(node: self, address: config.operationsListenAddress)
        }
        loop.beforeSleep = { [unowned self] in self.beforeSleep() }
        let waker = reactorWaker
        loop.afterSleep = { waker.cancelSleep() }
    }

    deinit {
        scratch.deallocate()
        iovecs.deallocate()
        if listenerFD >= 0 { Syscall.close(listenerFD) }
        if spareFD >= 0 { Syscall.close(spareFD) }
    }

    public var name: String { config.peerID }

    /// The operations endpoint's bound address, if it is on.
    public var operationsAddress: HostPort? { operations?.boundAddress }

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
            try loop.register(listenerFD, events: Readiness.readable, handler: ListenerHandler(node: self))
            try loop.register(reactorWaker.fd, events: Readiness.readable, handler: WakerHandler(waker: reactorWaker))
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
        ])
        discovery.start()
        loop.run()
        shutdown()
        stoppedLatch.signal()
    }

    // MARK: the loop's turn

    /// Runs before every `epoll_wait`: hand new messages to the fan, route the
    /// consenter's sends, resume paused readers, write what is queued.
    /// Returns true when there is work that must not wait for I/O.
    func beforeSleep() -> Bool {
        if stopRequested.load(ordering: .relaxed) && !shuttingDown {
            loop.stop()
            return true
        }
        runReactorTasks()
        notifyFanIfPushed()
        drainOutbound()
        resumePausedIfRoom()
        serveBacklogged()
        notifyFanIfPushed()
        flushDirty()
        reactorWaker.announceSleep()
        if !outbound.isEmpty || !backloggedConnections.isEmpty || (!pausedConnections.isEmpty && inbound.count < inbound.capacity / 2)
            || stopRequested.load(ordering: .relaxed) || hasReactorTasks.load(ordering: .relaxed) {
            reactorWaker.cancelSleep()
            return true
        }
        return false
    }

    @inline(__always)
    func notifyFanIfPushed() {
        if pushedSinceNotify > 0 {
            pushedSinceNotify = 0
            fan.notify()
        }
    }
}
