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

public struct AddressError: Error, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "cannot resolve '\(text)': \(reason)" }
}

/// A `sockaddr_storage` with its length.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    var length: socklen_t

    init(_ sa: UnsafePointer<sockaddr>, length: socklen_t) {
        self.length = length
        withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.copyMemory(from: sa, byteCount: Int(length)) }
    }

    init(storage: sockaddr_storage, length: socklen_t) { self.storage = storage; self.length = length }

    var family: Int32 { Int32(storage.ss_family) }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }

    /// Numeric host and port.
    public var hostPort: HostPort? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: 32)
        let rc = withSockAddr { getnameinfo($0, $1, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV) }
        guard rc == 0, let port = UInt16(SocketAddress.string(service)) else { return nil }
        return HostPort(host: SocketAddress.string(host), port: port)
    }

    public var description: String { hostPort?.description ?? "?" }

    /// The text of a NUL-terminated C buffer.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func local(of fd: Int32) -> SocketAddress? { query(fd, getsockname) }
    static func remote(of fd: Int32) -> SocketAddress? { query(fd, getpeername) }

    private static func query(_ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { call(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length) }
        return rc == 0 ? SocketAddress(storage: storage, length: length) : nil
    }
}

/// Thin wrappers over the socket calls the reactor makes.
public enum Sockets {
    /// A non-blocking listening socket bound to `address`.
    static func listen(on address: HostPort, options: SocketOptions, onOptionFailure: ([SocketOptions.Failure]) -> Void) throws -> Int32 {
        let candidates = try address.resolve()
        var lastError = SystemError(call: "bind \(address)", errno: EADDRNOTAVAIL)
        for candidate in candidates {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = SystemError(call: "socket", errno: errno); continue }
            onOptionFailure(options.applyToListener(fd))
            if candidate.withSockAddr({ bind(fd, $0, $1) }) != 0 {
                lastError = SystemError(call: "bind \(address)", errno: errno)
                Syscall.close(fd)
                continue
            }
            if Glibc.listen(fd, Int32(clamping: options.backlog)) != 0 {
                lastError = SystemError(call: "listen \(address)", errno: errno)
                Syscall.close(fd)
                continue
            }
            return fd
        }
        throw lastError
    }

    /// Starts a non-blocking connect; returns the socket and whether it is
    /// already connected (loopback often is) or still in progress.
    /// `configure` runs on the socket before `connect`: options such as
    /// SO_RCVBUF must be set before the handshake fixes the window scale.
    static func startConnect(to address: SocketAddress, configure: (Int32) -> Void = { _ in }) throws -> (fd: Int32, connected: Bool) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        configure(fd)
        if address.withSockAddr({ connect(fd, $0, $1) }) == 0 { return (fd, true) }
        let err = errno
        if err == EINPROGRESS { return (fd, false) }
        Syscall.close(fd)
        throw SystemError(call: "connect \(address)", errno: err)
    }

    /// The pending error of a socket (0 once a connect succeeded).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : errno
    }

    /// Reads an integer socket option back (tests and diagnostics).
    public static func intOption(_ fd: Int32, level: Int32, name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &value, &length) == 0 ? value : nil
    }
}

extension SocketAddress {
    /// A blocking connected socket (tools and tests, never the reactor).
    public func connectBlocking() throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        if withSockAddr({ connect(fd, $0, $1) }) != 0 {
            let err = errno
            Syscall.close(fd)
            throw SystemError(call: "connect \(self)", errno: err)
        }
        return fd
    }
}
