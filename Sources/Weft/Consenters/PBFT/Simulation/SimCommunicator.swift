/// One host's `Communicator` on the simulated network; silent once its process died.
final class SimCommunicator: Communicator, @unchecked Sendable {   // one simulation thread
    let host: Int
    unowned let network: SimNetwork
    let incarnation: SimIncarnation

    init(host: Int, network: SimNetwork, incarnation: SimIncarnation) {
        self.host = host
        self.network = network
        self.incarnation = incarnation
    }

    func broadcast(_ message: consuming Message, to target: BroadcastTarget) {
        guard target.includes(.validator), incarnation.effect() else { return }
        network.broadcast(from: host, message)
    }

    func unicast(_ message: consuming Message, to peer: PeerID) throws(CommunicatorError) {
        guard incarnation.effect() else { return }
        try network.unicast(from: host, message, to: peer.name)
    }

    func peers() -> [PeerInfo] { incarnation.dead ? [] : network.peers(of: host) }
}
