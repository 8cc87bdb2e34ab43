import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// The mesh of PROTOCOL.md section 3: root nodes, DISC_GET_PEERS / DISC_PEERS,
/// dialing learned addresses up to `maxPeers`, redial with backoff,
/// forgetting, and the persisted address list. Runs on the reactor thread.
final class Discovery {
    /// An address this peer may dial.
    final class Known {
        let address: String
        var isRoot: Bool
        var name: String?
        /// The live connection to it (dialing, handshaking or established).
        var handle: ConnectionHandle?
        /// First failed dial since it last worked (nil while it works).
        var failingSince: UInt64?
        var backoffNanos: UInt64 = 0
        var nextAttemptAt: UInt64 = 0
        var resolving = false
        init(address: String, isRoot: Bool) { self.address = address; self.isRoot = isRoot }
    }

    unowned let node: Node
    private(set) var known: [String: Known] = [:]
    /// Addresses that turned out to be this peer itself: never dialed again.
    private(set) var selfAddresses: Set<String> = []
    private let persistQueue = DispatchQueue(label: "weft.discovery.persist", qos: .utility)
    private var persistedList: [String] = []

    // PROTOCOL.md section 3: from 250 ms, doubling, cap 30 s, ±20% jitter.
    static let initialBackoff: UInt64 = 250_000_000
    static let maxBackoff: UInt64 = 30_000_000_000
    /// Addresses kept at most (a DISC_PEERS flood cannot grow it without bound).
    var knownLimit: Int { max(256, node.config.discovery.maxPeers * 8) }
    /// Entries read from one DISC_PEERS at most.
    static let maxPeersPerMessage = 1024

    init(node: Node) {
        self.node = node
        selfAddresses.insert(node.advertisedAddress)
    }

    var config: PeerConfig.Discovery { node.config.discovery }
    var logger: Logger { node.logger }
    var persistPath: String { (node.config.fileSystemPath as NSString).appendingPathComponent("discovery/peers") }

    // MARK: start and the periodic tick

    func start() {
        for root in config.rootNodes { add(root, isRoot: true) }
        if config.persist {
            for address in loadPersisted() where known[address] == nil { add(address, isRoot: false) }
        }
        dialMore()
        scheduleTick()
    }

    private func scheduleTick() {
        node.loop.schedule(afterNanos: config.periodNanos) { [weak self] in
            guard let self, !self.node.shuttingDown else { return }
            self.tick()
            self.scheduleTick()
        }
    }

    /// Every `peer.discovery.period`: ask everyone for peers (validators
    /// only), forget the long-failing, dial what is due.
    private func tick() {
        if node.selfType == .validator {
            let ask = Message(type: .discGetPeers, payload: EmptyCollection()).storage
            for c in node.establishedByName.values where c.peer?.type == .validator { node.send(ask, on: c) }
        }
        let now = MonotonicClock.now()
        for entry in known.values where !entry.isRoot {
            if let since = entry.failingSince, now - since >= config.forgetAfterNanos, entry.connection(in: node) == nil {
                logger.info("forgetting \(entry.address): unreachable for \(config.forgetAfterNanos / 1_000_000_000) s")
                known[entry.address] = nil
                persistSoon()
            }
        }
        dialMore()
    }

    // MARK: what the reactor tells discovery

    func established(_ c: Connection) {
        // Clients (NON_VALIDATOR) are neither dialed back nor asked for peers.
        guard let peer = c.peer, peer.type == .validator || c.direction == .outbound else { return }
        let address = c.dialedAddress ?? peer.address
        let entry = known[address] ?? add(address, isRoot: false)
        if let entry {
            entry.name = peer.name
            entry.handle = c.handle
            entry.failingSince = nil
            entry.backoffNanos = 0
        }
        if c.dialedAddress != nil, peer.address != c.dialedAddress, let other = known[peer.address], other.connection(in: node) == nil {
            other.name = peer.name                     // the same peer under its advertised address
        }
        if node.selfType == .validator && peer.type == .validator {
            node.send(Message(type: .discGetPeers, payload: EmptyCollection()).storage, on: c)
        }
        persistSoon()
    }

    /// A connection ended: schedule a redial with backoff if its peer is lost.
    func connectionClosed(_ c: Connection, cause: CloseCause, wasEstablished: Bool) {
        guard !node.shuttingDown else { return }
        let address = c.dialedAddress ?? c.peer?.address
        guard let address, let entry = known[address], entry.handle == c.handle || entry.connection(in: node) == nil else { return }
        entry.handle = nil
        if cause == .selfConnection { return }
        if let name = entry.name ?? c.peer?.name, node.establishedByName[name] != nil { return }   // still connected
        let now = MonotonicClock.now()
        if wasEstablished {
            entry.backoffNanos = 0                     // a success resets the backoff
        } else if entry.failingSince == nil {
            entry.failingSince = now
        }
        entry.backoffNanos = entry.backoffNanos == 0 ? Discovery.initialBackoff : min(entry.backoffNanos * 2, Discovery.maxBackoff)
        let delay = Discovery.jittered(entry.backoffNanos)
        entry.nextAttemptAt = now + delay
        node.loop.schedule(afterNanos: delay) { [weak self] in self?.dialMore() }
    }

    func markSelf(_ advertised: String, dialed: String?) {
        for address in [advertised, dialed].compactMap({ $0 }) {
            if selfAddresses.insert(address).inserted { logger.info("\(address) is this peer itself: not dialing it again") }
            known[address] = nil             // a root node that is this peer is dropped too
        }
        persistSoon()
    }

    // MARK: DISC_GET_PEERS / DISC_PEERS

    func answerGetPeers(from asker: Connection) {
        var list = Protos_PeersMessage()
        for c in node.establishedByName.values where c !== asker {
            guard let peer = c.peer else { continue }
            var endpoint = Protos_PeerEndpoint()
            endpoint.id.name = peer.name
            endpoint.address = peer.address
            endpoint.type = peer.type
            list.peers.append(endpoint)
        }
        let payload: [UInt8] = (try? list.serializedBytes()) ?? []
        node.send(Message(type: .discPeers, payload: payload).storage, on: asker)
    }

    func learn(fromPeersPayload payload: UnsafeRawBufferPointer, sender: Connection) {
        guard let list = try? Protos_PeersMessage(serializedBytes: Array(payload)) else {
            node.metrics.decodeErrors += 1
            logger.warning("ignoring an undecodable DISC_PEERS", metadata: ["peer": "\(sender.name)"])
            return
        }
        var added = 0, refused = 0
        for endpoint in list.peers.prefix(Discovery.maxPeersPerMessage) {
            let address = endpoint.address
            guard !endpoint.id.name.isEmpty, endpoint.id.name != node.name, HostPort(address) != nil,
                  !selfAddresses.contains(address), node.establishedByName[endpoint.id.name] == nil else { continue }
            if let entry = known[address] {
                entry.name = entry.name ?? endpoint.id.name
                continue
            }
            guard known.count < knownLimit else { refused += 1; continue }
            if let entry = add(address, isRoot: false) { entry.name = endpoint.id.name; added += 1 }
        }
        if list.peers.count > Discovery.maxPeersPerMessage || refused > 0 {
            logger.warning("DISC_PEERS from \(sender.name): \(list.peers.count) entries, \(refused) refused (address list full at \(knownLimit))")
        }
        if added > 0 {
            logger.debug("learned \(added) addresses from \(sender.name)")
            persistSoon()
            dialMore()
        }
    }

    // MARK: dialing

    @discardableResult
    private func add(_ address: String, isRoot: Bool) -> Known? {
        guard !selfAddresses.contains(address) else { return nil }
        if let entry = known[address] { entry.isRoot = entry.isRoot || isRoot; return entry }
        let entry = Known(address: address, isRoot: isRoot)
        known[address] = entry
        return entry
    }

    /// Dials known addresses that are due, while established + in-flight dials
    /// stay under `maxPeers`.
    func dialMore() {
        guard !node.shuttingDown else { return }
        let now = MonotonicClock.now()
        var budget = config.maxPeers - node.establishedByName.count - known.values.filter { ($0.connection(in: node).map { $0.state != .established }) ?? false }.count
        for entry in known.values.sorted(by: { ($0.isRoot ? 0 : 1, $0.address) < ($1.isRoot ? 0 : 1, $1.address) }) where budget > 0 {
            guard entry.connection(in: node) == nil, !entry.resolving, entry.nextAttemptAt <= now else { continue }
            if let name = entry.name, node.establishedByName[name] != nil { continue }
            budget -= 1
            dial(entry)
        }
    }

    private func dial(_ entry: Known) {
        guard let target = HostPort(entry.address) else { return }
        if Discovery.isNumeric(target.host) {
            connect(entry, to: (try? target.resolve()) ?? [])
            return
        }
        // Names are resolved off the reactor thread: a slow DNS answer never stalls the loop.
        entry.resolving = true
        let box = UncheckedBox(value: (self, entry))
        let node = self.node
        DispatchQueue.global(qos: .utility).async {
            let addresses = (try? target.resolve()) ?? []
            node.runOnReactor {
                let (discovery, entry) = box.value
                entry.resolving = false
                discovery.connect(entry, to: addresses)
            }
        }
    }

    private func connect(_ entry: Known, to addresses: [SocketAddress]) {
        guard !node.shuttingDown, entry.connection(in: node) == nil, known[entry.address] === entry else { return }
        guard let address = addresses.first else {
            dialFailed(entry, "cannot resolve \(entry.address)")
            return
        }
        guard let handle = node.links.reserve() else {
            dialFailed(entry, "connection limit reached")
            return
        }
        do {
            let (fd, connected) = try Sockets.startConnect(to: address)
            node.applyConnectionOptions(fd)
            let c = Connection(fd: fd, handle: handle, direction: .outbound, state: .connecting,
                               remoteAddress: entry.address, node: node)
            c.dialedAddress = entry.address
            entry.handle = c.handle
            node.metrics.dialed += 1
            node.adopt(c)
            if connected { node.finishConnect(c) }
        } catch {
            node.links.release(handle)
            dialFailed(entry, "\(error)")
        }
    }

    private func dialFailed(_ entry: Known, _ why: String) {
        logger.info("cannot dial \(entry.address): \(why)")
        let now = MonotonicClock.now()
        if entry.failingSince == nil { entry.failingSince = now }
        entry.backoffNanos = entry.backoffNanos == 0 ? Discovery.initialBackoff : min(entry.backoffNanos * 2, Discovery.maxBackoff)
        let delay = Discovery.jittered(entry.backoffNanos)
        entry.nextAttemptAt = now + delay
        node.loop.schedule(afterNanos: delay) { [weak self] in self?.dialMore() }
    }

    static func jittered(_ nanos: UInt64) -> UInt64 {
        UInt64(Double(nanos) * Double.random(in: 0.8...1.2))
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    // MARK: persistence

    private func loadPersisted() -> [String] {
        guard let text = try? String(contentsOfFile: persistPath, encoding: .utf8) else { return [] }
        let list = text.split(separator: "\n").map(String.init).filter { HostPort($0) != nil }
        persistedList = list.sorted()
        if !list.isEmpty { logger.info("read \(list.count) known addresses from \(persistPath)") }
        return list
    }

    /// Writes the known addresses (temp file, fsync, rename) off the reactor
    /// thread when the list changed.
    func persistSoon() {
        guard config.persist else { return }
        let list = known.keys.filter { !selfAddresses.contains($0) }.sorted()
        guard list != persistedList else { return }
        persistedList = list
        let path = persistPath
        let logger = self.logger
        persistQueue.async {
            do { try Discovery.writeAtomically(list.joined(separator: "\n") + "\n", to: path) } catch {
                logger.warning("cannot persist known peers to \(path): \(error)")
            }
        }
    }

    static func writeAtomically(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(call: "open \(temp)", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        Glibc.close(fd)
        guard written == bytes.count, synced == 0 else { throw SystemError(call: "write \(temp)", errno: errno) }
        guard rename(temp, path) == 0 else { throw SystemError(call: "rename \(temp)", errno: errno) }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); Glibc.close(dirFD) }
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

/// Reactor-owned objects carried through another thread untouched.
struct UncheckedBox<T>: @unchecked Sendable { let value: T }

/// A closure handed to the reactor thread; it runs only there.
struct ReactorTask: @unchecked Sendable {
    let run: () -> Void
}

extension Discovery.Known {
    /// The connection to this address, if it is still open.
    func connection(in node: Node) -> Connection? { handle.flatMap { node.connection($0) } }
}
