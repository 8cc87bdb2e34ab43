import Logging

/// Everything else (Fabric's peer handler): discovery, disconnects; other
/// types are counted and dropped.
final class PeerHandler: MessageHandler {
    private let links: LinkIO
    private let discovery: Discovery
    private var logger: Logger { links.logger }

    init(links: LinkIO, discovery: Discovery) {
        self.links = links
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
            logger.debug("ignoring a second DISC_HELLO", metadata: ["peer": "\(c.name)"])
        default:
            links.metrics.unhandledMessages += 1
            logger.trace("no handler for message", metadata: ["peer": "\(c.name)", "type": "\(frame.header.type)"])
        }
        return .handled
    }
}
