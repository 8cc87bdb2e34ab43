import Foundation
import Glibc

/// What this peer says about itself: its DISC_HELLO and the address it advertises.
extension Node {
    /// Our DISC_HELLO frame (re-encoded only when the chain height changed).
    func helloFrame() -> FrameStorage {
        let height = consenter.chainHeight
        if let cached = cachedHello, cached.height == height { return cached.frame }
        var hello = Protos_HelloMessage()
        hello.peerEndpoint = selfEndpoint
        hello.blockchainInfo.height = height
        var message = Protos_Message()
        message.type = .discHello
        message.payload = (try? hello.serializedData()) ?? Data()
        let frame = Message(message).storage
        cachedHello = (height, frame)
        return frame
    }

    var selfEndpoint: Protos_PeerEndpoint {
        var endpoint = Protos_PeerEndpoint()
        endpoint.id.name = name
        endpoint.address = advertisedAddress
        endpoint.type = selfType
        return endpoint
    }

    /// The listen address with a routable host in place of a wildcard.
    static func advertisable(_ bound: HostPort) -> String {
        guard bound.host == "0.0.0.0" || bound.host == "::" else { return bound.description }
        return HostPort(host: Node.firstRoutableIPv4() ?? "127.0.0.1", port: bound.port).description
    }

    static func firstRoutableIPv4() -> String? {
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
