import Glibc

/// `poll` on one descriptor until a monotonic deadline (MonotonicClock
/// nanoseconds), for the blocking clients and the REST threads.
enum DeadlinePoll {
    /// Whether `fd` became ready for `events` before `deadline` (false: the
    /// deadline passed, or poll failed).
    static func wait(_ fd: Int32, events: Int16, deadline: UInt64) -> Bool {
        while true {
            let now = MonotonicClock.now()
            guard now < deadline else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000)))
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR { return false }
        }
    }
}
