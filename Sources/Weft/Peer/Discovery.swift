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

    private let port: DiscoveryPort
    private let addressBook: AddressBook
    private(set) var known: [String: Known] = [:]
    /// Addresses that turned out to be this peer itself: never dialed again.
    private(set) var selfAddresses: Set<String> = []

    // PROTOCOL.md section 3: from 250 ms, doubling, cap 30 s, ±20% jitter.
    static let initialBackoff: UInt64 = 250_000_000
    static let maxBackoff: UInt64 = 30_000_000_000
    /// Addresses kept at most (a DISC_PEERS flood cannot grow it without bound).
    var knownLimit: Int { max(256, config.maxPeers * 8) }
    /// Entries read from one DISC_PEERS at most.
    static let maxPeersPerMessage = 1024

    let config: PeerConfig.Discovery
    let logger: Logger

    init(port: DiscoveryPort, config: PeerConfig.Discovery, dataDirectory: String, logger: Logger) {
        self.port = port
        self.config = config
        self.logger = logger
        addressBook = AddressBook(path: (dataDirectory as NSString).appendingPathComponent("discovery/peers"), logger: logger)
        selfAddresses.insert(port.advertisedAddress)
    }

    // MARK: start and the periodic tick

    func start() {
        for root in config.rootNodes { add(root, isRoot: true) }
        if config.persist {
            for address in addressBook.load() where known[address] == nil { add(address, isRoot: false) }
        }
        dialMore()
        scheduleTick()
    }

    private func scheduleTick() {
        port.schedule(afterNanos: config.periodNanos) { [weak self] in
            guard let self, !self.port.isShuttingDown else { return }
            self.tick()
            self.scheduleTick()
        }
    }

    /// Every `peer.discovery.period`: ask everyone for peers (validators
    /// only), forget the long-failing, dial what is due.
    private func tick() {
        if port.selfType == .validator {
            let ask = Message(type: .discGetPeers, payload: EmptyCollection()).storage
            for c in port.establishedPeers where port.peer(of: c)?.type == .validator { port.send(ask, on: c) }
        }
        let now = MonotonicClock.now()
        for entry in known.values where !entry.isRoot {
            if let since = entry.failingSince, now - since >= config.forgetAfterNanos, entry.connection(in: port) == nil {
                logger.info("forgetting \(entry.address): unreachable for \(config.forgetAfterNanos / 1_000_000_000) s")
                known[entry.address] = nil
                persistSoon()
            }
        }
        dialMore()
    }

    // MARK: what the reactor tells discovery

    func established(_ c: Connection, as peer: PeerInfo) {
        // Clients (NON_VALIDATOR) are neither dialed back nor asked for peers.
        guard peer.type == .validator || c.direction == .outbound else { return }
        let address = c.dialedAddress ?? peer.address
        let entry = known[address] ?? add(address, isRoot: false)
        if let entry {
            entry.name = peer.name
            entry.handle = c.handle
            entry.failingSince = nil
            entry.backoffNanos = 0
        }
        if c.dialedAddress != nil, peer.address != c.dialedAddress, let other = known[peer.address], other.connection(in: port) == nil {
            other.name = peer.name                     // the same peer under its advertised address
        }
        if port.selfType == .validator && peer.type == .validator {
            port.send(Message(type: .discGetPeers, payload: EmptyCollection()).storage, on: c)
        }
        persistSoon()
    }

    /// A connection ended (`peer`: whom it carried, if its hello came):
    /// schedule a redial with backoff if its peer is lost.
    func connectionClosed(_ c: Connection, peer: PeerInfo?, cause: CloseCause, wasEstablished: Bool) {
        guard !port.isShuttingDown else { return }
        let address = c.dialedAddress ?? peer?.address
        guard let address, let entry = known[address], entry.handle == c.handle || entry.connection(in: port) == nil else { return }
        entry.handle = nil
        if cause == .selfConnection { return }
        if let name = entry.name ?? peer?.name, port.established(named: name) != nil { return }   // still connected
        let now = MonotonicClock.now()
        if wasEstablished {
            entry.backoffNanos = 0                     // a success resets the backoff
        } else if entry.failingSince == nil {
            entry.failingSince = now
        }
        entry.backoffNanos = entry.backoffNanos == 0 ? Discovery.initialBackoff : min(entry.backoffNanos * 2, Discovery.maxBackoff)
        let delay = Discovery.jittered(entry.backoffNanos)
        entry.nextAttemptAt = now + delay
        port.schedule(afterNanos: delay) { [weak self] in self?.dialMore() }
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
        for c in port.establishedPeers where c !== asker {
            guard let peer = port.peer(of: c) else { continue }
            var endpoint = Protos_PeerEndpoint()
            endpoint.id.name = peer.name
            endpoint.address = peer.address
            endpoint.type = peer.type
            list.peers.append(endpoint)
        }
        let payload: [UInt8] = (try? list.serializedBytes()) ?? []
        port.send(Message(type: .discPeers, payload: payload).storage, on: asker)
    }

    func learn(fromPeersPayload payload: UnsafeRawBufferPointer, sender: Connection) {
        guard let list = try? Protos_PeersMessage(serializedBytes: Array(payload)) else {
            port.countDecodeError()
            logger.warning("ignoring an undecodable DISC_PEERS", metadata: ["peer": "\(port.name(of: sender))"])
            return
        }
        var added = 0, refused = 0
        for endpoint in list.peers.prefix(Discovery.maxPeersPerMessage) {
            let address = endpoint.address
            guard !endpoint.id.name.isEmpty, endpoint.id.name != port.selfName, HostPort(address) != nil,
                  !selfAddresses.contains(address), port.established(named: endpoint.id.name) == nil else { continue }
            if let entry = known[address] {
                entry.name = entry.name ?? endpoint.id.name
                continue
            }
            guard known.count < knownLimit else { refused += 1; continue }
            if let entry = add(address, isRoot: false) { entry.name = endpoint.id.name; added += 1 }
        }
        if list.peers.count > Discovery.maxPeersPerMessage || refused > 0 {
            logger.warning("DISC_PEERS from \(port.name(of: sender)): \(list.peers.count) entries, \(refused) refused (address list full at \(knownLimit))")
        }
        if added > 0 {
            logger.debug("learned \(added) addresses from \(port.name(of: sender))")
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
        guard !port.isShuttingDown else { return }
        let now = MonotonicClock.now()
        var budget = config.maxPeers - port.establishedCount - known.values.filter { ($0.connection(in: port).map { !port.isEstablished($0) }) ?? false }.count
        for entry in known.values.sorted(by: { ($0.isRoot ? 0 : 1, $0.address) < ($1.isRoot ? 0 : 1, $1.address) }) where budget > 0 {
            guard entry.connection(in: port) == nil, !entry.resolving, entry.nextAttemptAt <= now else { continue }
            if let name = entry.name, port.established(named: name) != nil { continue }
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
        let port = self.port
        DispatchQueue.global(qos: .utility).async {
            let addresses = (try? target.resolve()) ?? []
            port.runOnReactor {
                let (discovery, entry) = box.value
                entry.resolving = false
                discovery.connect(entry, to: addresses)
            }
        }
    }

    private func connect(_ entry: Known, to addresses: [SocketAddress]) {
        guard !port.isShuttingDown, entry.connection(in: port) == nil, known[entry.address] === entry else { return }
        guard let address = addresses.first else {
            dialFailed(entry, "cannot resolve \(entry.address)")
            return
        }
        switch port.dial(address, as: entry.address) {
        case .success(let handle): entry.handle = handle
        case .failure(let why): dialFailed(entry, "\(why)")
        }
    }

    private func dialFailed(_ entry: Known, _ why: String) {
        logger.info("cannot dial \(entry.address): \(why)")
        let now = MonotonicClock.now()
        if entry.failingSince == nil { entry.failingSince = now }
        entry.backoffNanos = entry.backoffNanos == 0 ? Discovery.initialBackoff : min(entry.backoffNanos * 2, Discovery.maxBackoff)
        let delay = Discovery.jittered(entry.backoffNanos)
        entry.nextAttemptAt = now + delay
        port.schedule(afterNanos: delay) { [weak self] in self?.dialMore() }
    }

    static func jittered(_ nanos: UInt64) -> UInt64 {
        UInt64(Double(nanos) * Double.random(in: 0.8...1.2))
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    // MARK: persistence

    /// Saves the known addresses (off the reactor thread) when the list changed.
    func persistSoon() {
        guard config.persist else { return }
        addressBook.save(known.keys.filter { !selfAddresses.contains($0) }.sorted())
    }
}

extension Discovery.Known {
    /// The connection to this address, if it is still open.
    func connection(in port: DiscoveryPort) -> Connection? { handle.flatMap { port.connection($0) } }
}
