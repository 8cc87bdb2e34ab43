import Foundation
import Logging

/// CONSENSUS, CHAIN_TRANSACTION and state-transfer messages, with their
/// sender, into the inbound ring (Fabric's consensus handler and its buffered
/// channel), and the fan told once per batch. When the ring is full the
/// overflow policy decides: pause the sender (backpressure, nothing lost) or
/// drop and say so ("Message channel for <id> full, rejecting").
final class ConsensusHandler: MessageHandler {
    private let ring: SPSCRing<InboundItem>
    private let framePool: FramePool
    private let fan: ConsensusFan
    private let links: LinkIO
    /// Who each connection's peer is (the peer layer's), read on a connection's first message and when rejecting.
    private let sessions: PeerSessions
    private let overflowPolicy: PeerConfig.Overflow
    /// Messages pushed since the fan was last told (reactor only).
    @exclusivity(unchecked) private var pushedSinceNotify = 0
    /// Messages pushed; every 128th carries a clock reading for the delivery histogram.
    @exclusivity(unchecked) private var pushed: UInt32 = 0
    /// Per connection slot: the generation of the connection whose peer the
    /// fan has been given (with its first message); 0 for none. Generations
    /// start at 1, so a slot's next connection is introduced afresh.
    private let introduced: UnsafeMutablePointer<UInt32>
    private let slotCount: Int
    /// Per connection slot, with the reject policy: when its rejects were last logged.
    private var rejectLogs: [UInt32: RejectLog] = [:]

    init(ring: SPSCRing<InboundItem>, framePool: FramePool, fan: ConsensusFan, links: LinkIO, sessions: PeerSessions,
         overflow: PeerConfig.Overflow, slotCount: Int) {
        self.ring = ring
        self.framePool = framePool
        self.fan = fan
        self.links = links
        self.sessions = sessions
        overflowPolicy = overflow
        self.slotCount = slotCount
        introduced = .allocate(capacity: slotCount)
        introduced.initialize(repeating: 0, count: slotCount)
    }

    deinit {
        introduced.deinitialize(count: slotCount)
        introduced.deallocate()
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
        let handle = c.handle
        let known = introduced[Int(handle.slot)] == handle.generation
        ring.pushAfterRoomCheck(InboundItem(message: consume message, handle: handle,
                                            introducing: known ? nil : introduction(of: handle), sampledAt: sampledAt))
        if !known { introduced[Int(handle.slot)] = handle.generation }
        pushedSinceNotify &+= 1
        if pushedSinceNotify >= 64 { notifyFanIfPushed() }   // a long read: start the fan early
        return .handled
    }

    /// The sender in full, for its connection's first message (the chain
    /// runs only for established peers, so the session names one).
    @inline(never)
    private func introduction(of handle: ConnectionHandle) -> PeerID {
        sessions.peer(of: handle)?.id ?? PeerID(name: "", handle: handle)
    }

    /// Tells the fan about what was pushed since the last time (once per batch).
    @inline(__always)
    func notifyFanIfPushed() {
        if pushedSinceNotify > 0 {
            pushedSinceNotify = 0
            fan.notify()
        }
    }

    private func overflow(_ frame: InboundFrame, from c: Connection) -> Disposition {
        notifyFanIfPushed()
        switch overflowPolicy {
        case .backpressure:
            links.pause(c)
            fan.reactorWaitsForRoom.store(true, ordering: .sequentiallyConsistent)
            return .retryLater
        case .reject:
            links.metrics.rejected += 1
            if frame.header.type == .chainTransaction {      // the client learns why (Fabric returned an error)
                let txid = (try? Protos_Transaction(serializedBytes: Array(frame.payload)))?.txid ?? "?"
                links.send(Responses.response(.failure, "\(txid): message channel full, rejecting").storage, on: c)
            }
            let handle = c.handle
            var log = rejectLogs[handle.slot].flatMap { $0.generation == handle.generation ? $0 : nil }
                ?? RejectLog(generation: handle.generation)
            log.sinceLog += 1
            let now = MonotonicClock.now()
            if now - log.lastLoggedAt >= 1_000_000_000 {   // at most one line per peer per second
                let more = log.sinceLog - 1
                links.logger.warning("Message channel for \(sessions.name(of: handle)) full, rejecting\(more > 0 ? " (\(more) more since the last report)" : "")")
                log.lastLoggedAt = now
                log.sinceLog = 0
            }
            rejectLogs[handle.slot] = log
            return .handled
        }
    }
}
