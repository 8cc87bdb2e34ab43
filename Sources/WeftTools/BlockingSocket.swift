import Foundation
import Glibc
import Weft

/// Blocking client sockets for tools (not the reactor).
public enum BlockingSocket {
    public static func connect(_ address: SocketAddress, timeoutSeconds: Int) throws -> Int32 {
        let fd = try address.connectBlocking()
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw HTTPGet.Failure(description: "write: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }
}
