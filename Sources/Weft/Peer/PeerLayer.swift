import Foundation
import Glibc
import Logging

/// The peer protocol above the links (PROTOCOL.md sections 2 and 3): the
/// DISC_HELLO exchange and its decision, duplicates, each connection's
/// session (`PeerSessions`), the established peers' registry and idle
/// timeout, and, once established, every frame down the handler chain. The
/// link layer calls it only through `LinkEvents`.
final class PeerLayer {
    private let links: LinkIO
    private let sessions: PeerSessions
    private let directory: PeerDirectory
    private let discovery: Discovery
    private let chain: HandlerChain
    /// Asked for the chain height that goes in our DISC_HELLO (as Fabric's peer asks its ledger).
    private let chainHeight: ChainHeightSource
    private let identity: SelfIdentity
    private let logger: Logger
    @exclusivity(unchecked) private var cachedHello: (height: UInt64, frame: FrameStorage)?

    init(links: LinkIO, sessions: PeerSessions, directory: PeerDirectory, discovery: Discovery, chain: HandlerChain,
         chainHeight: ChainHeightSource, identity: SelfIdentity, logger: Logger) {
        self.links = links
        self.sessions = sessions
        self.directory = directory
        self.discovery = discovery
        self.chain = chain
        self.chainHeight = chainHeight
        self.identity = identity
        self.logger = logger
    }

    // MARK: what the links report (through LinkEvents)

    /// A frame of `c`: down the handler chain once established, else the handshake.
    @inline(__always)
    func receive(_ frame: InboundFrame, from c: Connection) -> Disposition {
        guard sessions.isEstablished(c.handle) else { handleHandshake(frame, from: c); return .handled }
        return chain.handle(frame, from: c)       // its last link takes everything
    }

    /// Connected (and secured): the session begins, its hello due by the
    /// connection's setup deadline; a dialer sends its DISC_HELLO first.
    func linkReady(_ c: Connection) {
        let deadline = c.adoptedAt + links.policy.setupTimeout(dialing: c.direction == .outbound)
        sessions.open(c, helloDeadline: deadline)
        armHelloDeadline(c, at: deadline)
        guard c.direction == .outbound else { return }
        links.send(helloFrame(), on: c)
        if c.state != .closed { links.flush(c) }
    }

    /// `c` is saying goodbye: if it was an established peer, broadcasts and
    /// the fan's unicasts skip it from now on.
    func closing(_ c: Connection) {
        if let peer = sessions.leave(c) { directory.closed(peer.id) }
    }

    /// `c` closed: its session ends, the close is logged (naming the peer
    /// if its hello came), and discovery decides about a redial.
    func closed(_ c: Connection, cause: CloseCause, detail: String) {
        let session = sessions.end(c)
        let wasEstablished = session.phase == .established
        if wasEstablished, let peer = session.peer { directory.closed(peer.id) }
        let address = session.peer?.address ?? c.remoteAddress
        let level: Logger.Level = links.shuttingDown || cause == .peerClosed || cause == .peerDisconnect ? .info : .warning
        logger.log(level: level, "closed \(session.displayName) (\(address)): \(detail)",
                   metadata: ["peer": "\(session.displayName)", "address": "\(address)",
                              "direction": "\(c.direction.rawValue)", "cause": "\(cause.rawValue)"])
        discovery.connectionClosed(c, peer: session.peer, cause: cause, wasEstablished: wasEstablished)
    }

    // MARK: the handshake

    private func handleHandshake(_ frame: InboundFrame, from c: Connection) {
        if frame.header.type == .discDisconnect {
            let reason = String(decoding: frame.payload.prefix(256), as: UTF8.self)
            if reason == "self connection", let dialed = c.dialedAddress {
                // We dialed ourselves under an address other than the one we advertise.
                links.close(c, .selfConnection, detail: "\(dialed) is this peer itself")
                discovery.markSelf(dialed, dialed: nil)
                return
            }
            // The backoff set when the connection closes keeps it from being redialed at once.
            links.close(c, .peerDisconnect, detail: "peer sent DISC_DISCONNECT before hello: \(reason)")
            return
        }
        guard frame.header.type == .discHello else {
            links.disconnect(c, .expectedHello, reason: "expected DISC_HELLO", detail: "sent \(frame.header.type) before DISC_HELLO")
            return
        }
        let endpoint: Protos_PeerEndpoint
        switch HelloCheck.validate(frame.payload) {
        case .failure(let problem):
            links.disconnect(c, .badHello, reason: "invalid hello", detail: "invalid hello: \(problem)")
            return
        case .success(let valid):
            endpoint = valid
        }
        let peerName = endpoint.id.name
        let proof = HelloDecision.identity(of: c.tls, claiming: peerName)
        let existing = sessions.established(named: peerName)
        switch HelloDecision.decide(selfName: identity.name, claimed: peerName, direction: c.direction,
                                    existing: existing.map { .init(handle: $0.handle, direction: $0.direction) },
                                    identity: proof) {
        case .refuse(let cause, let reason, let detail):
            if cause == .selfConnection { discovery.markSelf(endpoint.address, dialed: c.dialedAddress) }
            links.disconnect(c, cause, reason: reason, detail: detail)
            return
        case .replace:
            if let existing {
                links.disconnect(existing, .duplicate, reason: "duplicate connection",
                                 detail: "replaced by the \(c.direction.rawValue) connection to \(peerName)")
            }
        case .accept:
            break
        }
        if proof == .unproven {
            logger.notice("TLS peer without a certificate claims the name \(peerName)", metadata: ["address": "\(c.remoteAddress)"])
        }
        let info = PeerInfo(id: PeerID(name: peerName, handle: c.handle), address: endpoint.address, type: endpoint.type,
                            certificate: c.tls?.peerCertificateDER)
        sessions.identify(c, as: info)
        if c.direction == .inbound { links.send(helloFrame(), on: c) }
        if c.state == .closed { return }
        sessions.establish(c, wallClock: Date().timeIntervalSince1970)
        directory.established(info)
        links.metrics.established += 1
        logger.info("established \(peerName)", metadata: [
            "peer": "\(peerName)", "address": "\(endpoint.address)", "type": "\(endpoint.type)",
            "direction": "\(c.direction.rawValue)",
        ])
        armIdleTimer(c)
        discovery.established(c, as: info)
    }

    /// `peer.limits.handshakeTimeout`: a link up without an accepted hello by then closes.
    private func armHelloDeadline(_ c: Connection, at deadline: UInt64) {
        let now = MonotonicClock.now()
        links.schedule(for: c, afterNanos: deadline > now ? deadline - now : 0) { [unowned self] c in
            guard c.state == .open, self.sessions.session(c.handle).phase == .awaitingHello else { return }
            self.links.close(c, .handshakeTimeout, detail: "no DISC_HELLO within the handshake timeout")
        }
    }

    /// `peer.limits.idleTimeout`: nothing received for that long closes the connection.
    private func armIdleTimer(_ c: Connection) {
        let idle = links.policy.idleTimeoutNanos
        guard idle > 0 else { return }
        let deadline = c.lastReceiveAt + idle
        let now = MonotonicClock.now()
        links.schedule(for: c, afterNanos: deadline > now ? deadline - now : 0) { [unowned self] c in
            guard self.sessions.isEstablished(c.handle) else { return }
            if MonotonicClock.now() - c.lastReceiveAt >= idle {
                self.links.disconnect(c, .idleTimeout, reason: "idle timeout",
                                      detail: "nothing received for \(idle / 1_000_000) ms (peer.limits.idleTimeout)")
            } else {
                self.armIdleTimer(c)
            }
        }
    }

    /// Our DISC_HELLO frame (re-encoded only when the chain height changed).
    private func helloFrame() -> FrameStorage {
        let height = chainHeight.chainHeight
        if let cached = cachedHello, cached.height == height { return cached.frame }
        var hello = Protos_HelloMessage()
        hello.peerEndpoint = identity.endpoint
        hello.blockchainInfo.height = height
        var message = Protos_Message()
        message.type = .discHello
        message.payload = (try? hello.serializedData()) ?? Data()
        let frame = Message(message).storage
        cachedHello = (height, frame)
        return frame
    }
}
