import Glibc

/// Outbound links: a non-blocking connect to an address, as a new
/// `Connection` of the link layer (`connecting` until the socket is writable,
/// then TLS if on, then the peer layer's hello).
final class Dialer {
    enum Failure: Error, CustomStringConvertible {
        case connectionLimit
        case connect(Error)
        var description: String {
            switch self {
            case .connectionLimit: return "connection limit reached"
            case .connect(let error): return "\(error)"
            }
        }
    }

    private let links: LinkIO

    init(links: LinkIO) { self.links = links }

    /// Starts a connect to `address`; `name` is the address as discovery
    /// knows it. The handle of the new connection.
    func dial(_ address: SocketAddress, as name: String) -> Result<ConnectionHandle, Failure> {
        guard let handle = links.table.reserve() else { return .failure(.connectionLimit) }
        do {
            // The socket's knobs before connect (a receive buffer set later does not change the window scale).
            let (fd, connected) = try Sockets.startConnect(to: address) { links.applyConnectionOptions($0) }
            let c = Connection(fd: fd, handle: handle, direction: .outbound, state: .connecting, remoteAddress: name,
                               dialedAddress: name)
            links.metrics.dialed += 1
            links.adopt(c)
            if connected { links.finishConnect(c) }
            return .success(handle)
        } catch {
            links.table.release(handle)
            return .failure(.connect(error))
        }
    }
}
