import CWeftLinux
import Glibc

/// The reactor's system calls, each wrapped once: `EINTR` is retried here,
/// `EAGAIN` is an outcome rather than an error, and every other failure
/// comes back as its errno in a typed result. Nothing else in the reactor,
/// link or peer layers calls `recv`, `sendmsg`, `accept4`, `shutdown`,
/// `close` or `epoll_*` on a socket.
package enum Syscall {
    package enum ReadOutcome {
        case bytes(Int)
        case wouldBlock
        case endOfStream
        case failed(Int32)
    }

    package enum WriteOutcome {
        case sent(Int)
        case wouldBlock
        case failed(Int32)
    }

    package enum AcceptOutcome {
        case accepted(Int32)
        /// Nothing waiting (EAGAIN), or a connection that was reset before we took it.
        case none
        /// EMFILE / ENFILE: the process or the system is out of descriptors.
        case outOfDescriptors(Int32)
        case failed(Int32)
    }

    @inline(__always)
    package static func receive(_ fd: Int32, into buffer: UnsafeMutableRawPointer?, count: Int) -> ReadOutcome {
        while true {
            let n = recv(fd, buffer, count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfStream }
            let err = errno
            if err == EINTR { continue }
            return err == EAGAIN || err == EWOULDBLOCK ? .wouldBlock : .failed(err)
        }
    }

    /// One gathered send (MSG_NOSIGNAL: a closed peer is an EPIPE, never a SIGPIPE).
    @inline(__always)
    static func sendGathered(_ fd: Int32, _ iovecs: UnsafeMutablePointer<iovec>, count: Int) -> WriteOutcome {
        var message = msghdr()
        message.msg_iov = iovecs
        message.msg_iovlen = count
        while true {
            let n = sendmsg(fd, &message, cweft_msg_nosignal)
            if n >= 0 { return .sent(n) }
            let err = errno
            if err == EINTR { continue }
            return err == EAGAIN || err == EWOULDBLOCK ? .wouldBlock : .failed(err)
        }
    }

    static func accept(_ listener: Int32, nonBlocking: Bool = true) -> AcceptOutcome {
        let flags = Int32(SOCK_CLOEXEC.rawValue | (nonBlocking ? SOCK_NONBLOCK.rawValue : 0))
        while true {
            let fd = cweft_accept(listener, flags)
            if fd >= 0 { return .accepted(fd) }
            let err = errno
            switch err {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED: return .none
            case EMFILE, ENFILE: return .outOfDescriptors(err)
            default: return .failed(err)
            }
        }
    }

    /// Ends our side of the stream (the peer reads EOF after what was sent).
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes a descriptor (never retried: on Linux the descriptor is gone
    /// even when close reports EINTR).
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// A descriptor on /dev/null, kept in reserve for shedding under EMFILE.
    static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    // MARK: epoll

    static func epollCreate() throws(SystemError) -> Int32 {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemError(call: "epoll_create1", errno: errno) }
        return fd
    }

    static func epollControl(_ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        guard epoll_ctl(epfd, op, fd, &event) == 0 else { throw SystemError(call: "epoll_ctl", errno: errno) }
    }

    static func epollRemove(_ epfd: Int32, _ fd: Int32) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    /// Ready events, or 0 when interrupted by a signal.
    @inline(__always)
    static func epollWait(_ epfd: Int32, _ events: UnsafeMutablePointer<epoll_event>, max: Int32, timeoutMillis: Int32) -> Int {
        let n = epoll_wait(epfd, events, max, timeoutMillis)
        return n > 0 ? Int(n) : 0
    }
}
