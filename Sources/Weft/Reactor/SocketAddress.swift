import CWeftLinux
import Glibc

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
