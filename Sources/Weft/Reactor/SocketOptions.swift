import Glibc

/// Socket options for listening and connected sockets (their configuration
/// keys, `peer.socket.*`, are the config layer's business).
public struct SocketOptions: Sendable, Equatable {
    public var tcpNoDelay = true
    public var sendBuffer = 0                   // 0 = kernel default
    public var receiveBuffer = 0
    public var keepaliveEnabled = true
    public var keepaliveIdleSeconds = 30
    public var keepaliveIntervalSeconds = 10
    public var keepaliveCount = 3
    public var reuseAddress = true
    public var reusePort = false
    public var backlog = 1024
    public var userTimeoutMillis = 0            // 0 = off
    public var notSentLowat = 0                 // 0 = off
    public var lingerSeconds = -1               // -1 = off

    public init() {}

    /// One option that could not be set: which (by its property name) and errno.
    public struct Failure: CustomStringConvertible {
        public let option: PartialKeyPath<SocketOptions>
        public let errno: Int32
        public var description: String { String(cString: strerror(errno)) }
    }

    /// Applies the knobs that belong on a listening socket (set before bind).
    func applyToListener(_ fd: Int32) -> [Failure] {
        var failures: [Failure] = []
        set(fd, SOL_SOCKET, SO_REUSEADDR, reuseAddress ? 1 : 0, \.reuseAddress, &failures)
        if reusePort { set(fd, SOL_SOCKET, SO_REUSEPORT, 1, \.reusePort, &failures) }
        // Buffers set on the listener are inherited by accepted sockets and
        // must be in place before listen() for the window scale to follow them.
        applyBuffers(fd, &failures)
        return failures
    }

    /// Applies the per-connection knobs to an accepted or dialed socket.
    func applyToConnection(_ fd: Int32) -> [Failure] {
        var failures: [Failure] = []
        set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, tcpNoDelay ? 1 : 0, \.tcpNoDelay, &failures)
        applyBuffers(fd, &failures)
        set(fd, SOL_SOCKET, SO_KEEPALIVE, keepaliveEnabled ? 1 : 0, \.keepaliveEnabled, &failures)
        if keepaliveEnabled {
            set(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(keepaliveIdleSeconds), \.keepaliveIdleSeconds, &failures)
            set(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, Int32(keepaliveIntervalSeconds), \.keepaliveIntervalSeconds, &failures)
            set(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, Int32(keepaliveCount), \.keepaliveCount, &failures)
        }
        if userTimeoutMillis > 0 { set(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, Int32(userTimeoutMillis), \.userTimeoutMillis, &failures) }
        if notSentLowat > 0 { set(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, Int32(notSentLowat), \.notSentLowat, &failures) }
        if lingerSeconds >= 0 {
            var value = linger(l_onoff: 1, l_linger: Int32(lingerSeconds))
            if setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size)) != 0 {
                failures.append(Failure(option: \SocketOptions.lingerSeconds, errno: errno))
            }
        }
        return failures
    }

    private func applyBuffers(_ fd: Int32, _ failures: inout [Failure]) {
        if sendBuffer > 0 { set(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBuffer), \.sendBuffer, &failures) }
        if receiveBuffer > 0 { set(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBuffer), \.receiveBuffer, &failures) }
    }

    private func set(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ option: PartialKeyPath<SocketOptions>, _ failures: inout [Failure]) {
        var v = value
        if setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            failures.append(Failure(option: option, errno: errno))
        }
    }
}
