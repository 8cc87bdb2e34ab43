import Dispatch
import Foundation

/// The REST API's view of the node: the peers it lists and the client port
/// it submits through. Nothing here runs on the reactor but the peer list,
/// built there as a task the REST thread waits for (bounded).
extension Node {
    /// The REST server `config.rest` asks for, bound; nil when off.
    func makeRESTServer() throws -> RESTServer? {
        guard config.rest.enabled else { return nil }
        let clientPort: Result<HostPort, RESTUnavailable>
        if config.tls.enabled {
            clientPort = .failure(RESTUnavailable(reason: "POST /transactions is off on a peer with peer.tls.enabled: the REST server holds no client certificate; submit with weft tx submit and one"))
        } else {
            clientPort = .success(Node.loopback(boundAddress))
        }
        let tasks = reactorTasks
        let sessions = UncheckedBox(value: self.sessions)   // touched only by the reactor task below
        let (myName, myAddress, myType) = (name, advertisedAddress, selfType.rawValue)
        return try RESTServer(settings: config.rest, dataDirectory: config.fileSystemPath,
                              maxBodyBytes: config.limits.maxFrameSize / 2, logger: logger,
                              peers: { Node.establishedPeers(tasks: tasks, sessions: sessions, me: (myName, myAddress, myType)) },
                              clientPort: clientPort, clientNamePrefix: "\(name)-rest")
    }

    /// Where this peer's own clients connect from this host: the wildcard listen address as loopback.
    static func loopback(_ address: HostPort) -> HostPort {
        switch address.host {
        case "0.0.0.0": return HostPort(host: "127.0.0.1", port: address.port)
        case "::": return HostPort(host: "::1", port: address.port)
        default: return address
        }
    }

    /// Fabric v0.6's `PeersMessage` in JSON: every established peer, then
    /// this one (`ID.name`, `address`, `type` 1 = VALIDATOR, 2 = NON_VALIDATOR);
    /// nil when the reactor did not answer within 2 s.
    private static func establishedPeers(tasks: ReactorTasks, sessions: UncheckedBox<PeerSessions>, me: (name: String, address: String, type: Int)) -> [[String: Any]]? {
        final class Box: @unchecked Sendable { var peers: [[String: Any]] = [] }      // written on the reactor before `done`
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        tasks.submit {
            let table = sessions.value
            box.peers = table.byName.sorted { $0.key < $1.key }.map { name, c in
                let peer = table.peer(of: c.handle)
                return ["ID": ["name": name], "address": peer?.address ?? "", "type": (peer?.type ?? .undefined).rawValue]
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + 2) == .success else { return nil }
        return box.peers + [["ID": ["name": me.name], "address": me.address, "type": me.type]]
    }
}
