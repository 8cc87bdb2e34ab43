import Glibc

/// Who this peer says it is: its name, type and the address it advertises
/// in DISC_HELLO (PROTOCOL.md section 2).
struct SelfIdentity: Sendable {
    let name: String
    let type: PeerType
    let advertisedAddress: String

    var endpoint: Protos_PeerEndpoint {
        var endpoint = Protos_PeerEndpoint()
        endpoint.id.name = name
        endpoint.address = advertisedAddress
        endpoint.type = type
        return endpoint
    }

    /// The listen address with a routable host in place of a wildcard.
    static func advertisable(_ bound: HostPort) -> String {
        guard bound.host == "0.0.0.0" || bound.host == "::" else { return bound.description }
        return HostPort(host: firstRoutableIPv4() ?? "127.0.0.1", port: bound.port).description
    }

    private static func firstRoutableIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(first) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let addr = entry.pointee.ifa_addr, Int32(addr.pointee.sa_family) == AF_INET,
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0
            else { continue }
            if let text = SocketAddress(addr, length: socklen_t(MemoryLayout<sockaddr_in>.size)).hostPort?.host { return text }
        }
        return nil
    }
}
