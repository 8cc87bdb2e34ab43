import CWeftLinux
import Glibc

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
