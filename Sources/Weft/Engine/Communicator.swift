import Dispatch

/// How a consenter talks to the network (Fabric's `consensus.Communicator`).
/// Call it only on the consensus fan's queue (where `recvMsg` runs, or a
/// timer the consenter put on `FanContext.queue`).
public protocol Communicator: Sendable {
    /// Sends to every established peer of that type: one encoding, many writes.
    func broadcast(_ message: consuming Message, to target: BroadcastTarget)
    /// Sends to one peer; throws `unknownPeer` when it is not established.
    func unicast(_ message: consuming Message, to peer: PeerID) throws(CommunicatorError)
    /// The established peers now.
    func peers() -> [PeerInfo]
}
