import CWeftLinux
import Foundation
import Glibc
import Weft

/// Socket helpers of the tests.
enum TestSockets {
    /// A connected AF_UNIX stream pair, non-blocking.
    static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SystemError(call: "socketpair", errno: errno)
        }
        return (fds[0], fds[1])
    }

    /// `n` ports on 127.0.0.1 that were free a moment ago (for a peer that
    /// must be told its own port in advance; everything else listens on port 0).
    static func freePorts(_ n: Int) throws -> [UInt16] {
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        return try (0..<n).map { _ in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            guard withUnsafeMutablePointer(to: &addr, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0 else {
                throw TestFailure("getsockname")
            }
            return UInt16(bigEndian: addr.sin_port)
        }
    }
}
