import Foundation
import Logging

/// The chain itself: the consensus handler (the engine's inlet), then the
/// peer handler (Fabric's order). The node owns both; the chain calls them
/// as `Upward`, so walking it per frame costs no retain or release.
struct HandlerChain {
    private let consensus: Upward<ConsensusHandler>
    private let peer: Upward<PeerHandler>

    init(_ consensus: ConsensusHandler, _ peer: PeerHandler) {
        self.consensus = Upward(consensus)
        self.peer = Upward(peer)
    }

    /// Offers the frame to each link until one takes it (the peer handler, last, takes all).
    @inline(__always)
    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition {
        let result = consensus { $0.handle(frame, from: c) }
        guard result == .pass else { return result }
        return peer { $0.handle(frame, from: c) }
    }
}
