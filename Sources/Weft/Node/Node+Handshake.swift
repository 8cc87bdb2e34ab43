import Foundation
import Logging

/// The handshake of PROTOCOL.md section 2: validate the other side's
/// DISC_HELLO, settle duplicates, register the peer.
extension Node {
    func handleHandshake(_ frame: InboundFrame, from c: Connection) {
        if frame.header.type == .discDisconnect {
            let reason = String(decoding: frame.payload.prefix(256), as: UTF8.self)
            if reason == "self connection", let dialed = c.dialedAddress {
                // We dialed ourselves under an address other than the one we advertise.
                close(c, .selfConnection, detail: "\(dialed) is this peer itself")
                discovery.markSelf(dialed, dialed: nil)
                return
            }
            // The backoff set when the connection closes keeps it from being redialed at once.
            close(c, .peerDisconnect, detail: "peer sent DISC_DISCONNECT before hello: \(reason)")
            return
        }
        guard frame.header.type == .discHello else {
            disconnect(c, .expectedHello, reason: "expected DISC_HELLO",
                       detail: "sent \(frame.header.type) before DISC_HELLO")
            return
        }
        let endpoint: Protos_PeerEndpoint
        switch HelloCheck.validate(frame.payload) {
        case .failure(let problem):
            disconnect(c, .badHello, reason: "invalid hello", detail: "invalid hello: \(problem)")
            return
        case .success(let valid):
            endpoint = valid
        }
        let peerName = endpoint.id.name
        let identity = helloIdentity(c, name: peerName)
        let existing = links.established(named: peerName)
        switch HelloDecision.decide(selfName: name, claimed: peerName, direction: c.direction,
                                    existing: existing.map { .init(handle: $0.handle, direction: $0.direction) },
                                    identity: identity) {
        case .refuse(let cause, let reason, let detail):
            if cause == .selfConnection { discovery.markSelf(endpoint.address, dialed: c.dialedAddress) }
            disconnect(c, cause, reason: reason, detail: detail)
            return
        case .replace:
            if let existing {
                disconnect(existing, .duplicate, reason: "duplicate connection",
                           detail: "replaced by the \(c.direction.rawValue) connection to \(peerName)")
            }
        case .accept:
            break
        }
        if identity == .unproven {
            logger.notice("TLS peer without a certificate claims the name \(peerName)", metadata: ["address": "\(c.remoteAddress)"])
        }
        let info = PeerInfo(id: PeerID(name: peerName, handle: c.handle), address: endpoint.address, type: endpoint.type,
                            certificate: c.tls?.peerCertificateDER)
        c.peer = info
        c.peerID = info.id
        if c.direction == .inbound { send(helloFrame(), on: c) }
        if c.state == .closed { return }
        c.state = .established
        c.establishedWallClock = Date().timeIntervalSince1970
        links.establish(c, as: peerName)
        directory.established(info)
        metrics.established += 1
        logger.info("established \(peerName)", metadata: [
            "peer": "\(peerName)", "address": "\(endpoint.address)", "type": "\(endpoint.type)",
            "direction": "\(c.direction.rawValue)",
        ])
        armIdleTimer(c)
        discovery.established(c)
    }

    /// `peer.limits.idleTimeout`: nothing received for that long closes the connection.
    func armIdleTimer(_ c: Connection) {
        let idle = policy.idleTimeoutNanos
        guard idle > 0 else { return }
        let deadline = c.lastReceiveAt + idle
        let now = MonotonicClock.now()
        schedule(for: c, afterNanos: deadline > now ? deadline - now : 0) { c in
            guard c.state == .established else { return }
            if MonotonicClock.now() - c.lastReceiveAt >= idle {
                self.disconnect(c, .idleTimeout, reason: "idle timeout",
                                detail: "nothing received for \(idle / 1_000_000) ms (peer.limits.idleTimeout)")
            } else {
                self.armIdleTimer(c)
            }
        }
    }
}
