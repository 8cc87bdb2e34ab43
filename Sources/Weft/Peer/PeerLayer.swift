import Foundation
import Glibc
import Logging

/// The peer protocol above the links (PROTOCOL.md sections 2 and 3): the
/// DISC_HELLO exchange and its decision, duplicates, the established peers'
/// registry and idle timeout, and, once established, every frame down the
/// handler chain. The link layer calls it only through `LinkEvents`.
final class PeerLayer {
    private let links: LinkIO
    private let directory: PeerDirectory
    private let discovery: Discovery
    private let chain: HandlerChain
    /// Asked for the chain height that goes in our DISC_HELLO (as Fabric's peer asks its ledger).
    private let chainHeight: ChainHeightSource
    private let identity: SelfIdentity
    private let logger: Logger
    @exclusivity(unchecked) private var cachedHello: (height: UInt64, frame: FrameStorage)?

    init(links: LinkIO, directory: PeerDirectory, discovery: Discovery, chain: HandlerChain, chainHeight: ChainHeightSource,
         identity: SelfIdentity, logger: Logger) {
        self.links = links
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
        guard c.state == .established else { handleHandshake(frame, from: c); return .handled }
        return chain.handle(frame, from: c)       // its last link takes everything
    }

    /// Connected (and secured): a dialer sends its DISC_HELLO first.
    func linkReady(_ c: Connection) {
        guard c.direction == .outbound else { return }
        links.send(helloFrame(), on: c)
        if c.state != .closed { links.flush(c) }
    }

    /// An established peer is closing: broadcasts and the fan's unicasts skip it from now on.
    func left(_ c: Connection) { directory.closed(c.peerID) }

    func closed(_ c: Connection, cause: CloseCause, wasEstablished: Bool) {
        discovery.connectionClosed(c, cause: cause, wasEstablished: wasEstablished)
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
        let existing = links.table.established(named: peerName)
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
        links.identify(c, as: info)
        if c.direction == .inbound { links.send(helloFrame(), on: c) }
        if c.state == .closed { return }
        links.establish(c)
        directory.established(info)
        links.metrics.established += 1
        logger.info("established \(peerName)", metadata: [
            "peer": "\(peerName)", "address": "\(endpoint.address)", "type": "\(endpoint.type)",
            "direction": "\(c.direction.rawValue)",
        ])
        armIdleTimer(c)
        discovery.established(c)
    }

    /// `peer.limits.idleTimeout`: nothing received for that long closes the connection.
    private func armIdleTimer(_ c: Connection) {
        let idle = links.policy.idleTimeoutNanos
        guard idle > 0 else { return }
        let deadline = c.lastReceiveAt + idle
        let now = MonotonicClock.now()
        links.schedule(for: c, afterNanos: deadline > now ? deadline - now : 0) { [unowned self] c in
            guard c.state == .established else { return }
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
