import CWeftLinux
import Glibc

/// "host:port" split and checked (PROTOCOL.md: a non-empty host, port 1...65535;
/// IPv6 hosts in brackets).
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// nil unless `text` is `host:port` with a non-empty host and a port in
    /// 1...65535 (`allowPortZero` for listen addresses: 0 = any free port).
    public init?(_ text: String, allowPortZero: Bool = false) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !host.isEmpty, !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
              let port = UInt16(portText), port > 0 || allowPortZero else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.unicodeScalars.contains(where: {
            $0 == "/" || $0.properties.isWhitespace || $0.properties.generalCategory == .control
        }) else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Resolves to socket addresses (blocking: call off the reactor thread or at start).
    public func resolve() throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw AddressError(text: description, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr { addresses.append(SocketAddress(sa, length: info.pointee.ai_addrlen)) }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
