import Logging

/// Everything else (Fabric's peer handler): discovery, disconnects; other
/// types are counted and dropped.
final class PeerHandler: MessageHandler {
    private let links: LinkIO
    private let sessions: PeerSessions
    private let discovery: Discovery
    private var logger: Logger { links.logger }

    init(links: LinkIO, sessions: PeerSessions, discovery: Discovery) {
        self.links = links
        self.sessions = sessions
        self.discovery = discovery
    }

    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition {
        switch frame.header.type {
        case .discDisconnect:
            let reason = String(decoding: frame.payload.prefix(256), as: UTF8.self)
            links.close(c, .peerDisconnect, detail: "peer sent DISC_DISCONNECT: \(reason)")
        case .discGetPeers:
            discovery.answerGetPeers(from: c)
        case .discPeers:
            discovery.learn(fromPeersPayload: frame.payload, sender: c)
        case .discHello:
            logger.debug("ignoring a second DISC_HELLO", metadata: ["peer": "\(sessions.name(of: c.handle))"])
        default:
            links.metrics.unhandledMessages += 1
            logger.trace("no handler for message", metadata: ["peer": "\(sessions.name(of: c.handle))", "type": "\(frame.header.type)"])
        }
        return .handled
    }
}
