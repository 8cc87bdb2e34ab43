import Foundation
import Logging

/// A frame handed down the handler chain: the bytes still sit in a read
/// buffer, valid only during the call.
struct InboundFrame {
    /// Length prefix and body.
    let frame: UnsafeRawBufferPointer
    let header: MessageHeader

    @inline(__always)
    var body: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: frame[FrameFormat.headerSize...]) }
    var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: body[header.payloadOffset..<(header.payloadOffset + header.payloadCount)])
    }
}

enum Disposition {
    /// Done with; the next frame may follow.
    case handled
    /// Not this handler's: ask the next one.
    case pass
    /// Cannot take it now (ring full, backpressure): stop reading this
    /// connection and offer the same frame again later.
    case retryLater
}

/// A link of the handler chain (Fabric's `MessageHandler`), run on the reactor
/// thread for each message of an established peer.
protocol MessageHandler: AnyObject {
    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition
}

/// The chain itself: the consensus handler, then the peer handler (Fabric's
/// order). It holds its links without reference counts (the node owns them
/// in `handlers`), so walking it per frame costs no retain or release.
struct HandlerChain {
    private let consensus: Unmanaged<ConsensusHandler>
    private let peer: Unmanaged<PeerHandler>

    init(_ consensus: ConsensusHandler, _ peer: PeerHandler) {
        self.consensus = .passUnretained(consensus)
        self.peer = .passUnretained(peer)
    }

    /// Offers the frame to each link until one takes it; `.pass` if none did.
    @inline(__always)
    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition {
        let result = consensus._withUnsafeGuaranteedRef { $0.handle(frame, from: c) }
        guard result == .pass else { return result }
        return peer._withUnsafeGuaranteedRef { $0.handle(frame, from: c) }
    }
}

/// CONSENSUS and CHAIN_TRANSACTION messages, with their sender, into the
/// inbound ring (Fabric's consensus handler and its buffered channel).
final class ConsensusHandler: MessageHandler {
    /// The node owns this handler: held without a count, read at +0.
    private let unmanagedNode: Unmanaged<Node>
    private var node: Node { unmanagedNode.takeUnretainedValue() }
    private let ring: SPSCRing<InboundItem>
    private let framePool: FramePool
    private let policy: PeerConfig.Overflow
    /// Messages pushed (plain: reactor only); every 128th carries a clock reading for the delivery histogram.
    private var pushed: UInt32 = 0

    init(node: Node) {
        unmanagedNode = .passUnretained(node)
        ring = node.inbound
        framePool = node.framePool
        policy = node.config.consensus.overflow
    }

    @inline(__always)
    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition {
        let type = frame.header.rawType
        // State transfer goes to the consenter too: it owns the ledger (PROTOCOL.md section 9).
        guard type == Int32(Protos_Message.TypeEnum.consensus.rawValue)
            || type == Int32(Protos_Message.TypeEnum.chainTransaction.rawValue)
            || type == Int32(Protos_Message.TypeEnum.syncGetBlocks.rawValue)
            || type == Int32(Protos_Message.TypeEnum.syncBlocks.rawValue) else { return .pass }
        guard ring.hasRoom() else { return overflow(frame, from: c) }
        let message = Message(storage: framePool.copying(body: frame.body), header: frame.header)
        pushed &+= 1
        let sampledAt: UInt64 = pushed & 127 == 1 ? MonotonicClock.now() : 0
        ring.pushAfterRoomCheck(InboundItem(message: consume message, handle: c.handle, introducing: c.introducedToFan ? nil : c.peerID,
                                            sampledAt: sampledAt))
        c.introducedToFan = true
        unmanagedNode._withUnsafeGuaranteedRef { node in
            node.pushedSinceNotify &+= 1
            if node.pushedSinceNotify >= 64 { node.notifyFanIfPushed() }   // a long read: start the fan early
        }
        return .handled
    }

    private func overflow(_ frame: InboundFrame, from c: Connection) -> Disposition {
        node.notifyFanIfPushed()
        switch policy {
        case .backpressure:
            node.pause(c)
            return .retryLater
        case .reject:
            node.metrics.rejected += 1
            if frame.header.type == .chainTransaction {      // the client learns why (Fabric returned an error)
                let txid = (try? Protos_Transaction(serializedBytes: Array(frame.payload)))?.txid ?? "?"
                node.send(Responses.response(.failure, "\(txid): message channel full, rejecting").storage, on: c)
            }
            c.rejectsSinceLog += 1
            let now = MonotonicClock.now()
            if now - c.lastRejectLogAt >= 1_000_000_000 {   // at most one line per peer per second
                let more = c.rejectsSinceLog - 1
                node.logger.warning("Message channel for \(c.name) full, rejecting\(more > 0 ? " (\(more) more since the last report)" : "")")
                c.lastRejectLogAt = now
                c.rejectsSinceLog = 0
            }
            return .handled
        }
    }
}

/// Everything else (Fabric's peer handler): discovery, disconnects; other
/// types are counted and dropped.
final class PeerHandler: MessageHandler {
    unowned(unsafe) let node: Node
    init(node: Node) { self.node = node }

    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition {
        switch frame.header.type {
        case .discDisconnect:
            let reason = String(decoding: frame.payload.prefix(256), as: UTF8.self)
            node.close(c, .peerDisconnect, detail: "peer sent DISC_DISCONNECT: \(reason)")
        case .discGetPeers:
            node.discovery.answerGetPeers(from: c)
        case .discPeers:
            node.discovery.learn(fromPeersPayload: frame.payload, sender: c)
        case .discHello:
            node.logger.debug("ignoring a second DISC_HELLO", metadata: ["peer": "\(c.name)"])
        default:
            node.metrics.unhandledMessages += 1
            node.logger.trace("no handler for message", metadata: ["peer": "\(c.name)", "type": "\(frame.header.type)"])
        }
        return .handled
    }
}
