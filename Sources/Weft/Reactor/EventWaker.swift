import CWeftLinux
import Glibc
import Synchronization

/// Wakes a thread that sleeps in `epoll_wait` through an eventfd, at most once
/// per sleep: the sleeper announces it is going to sleep, re-checks for work,
/// then blocks; the waker publishes work, then writes the eventfd only if its
/// `Doorbell` rings (it saw the announcement and took it) — no lost wake-up,
/// no needless syscall.
public final class EventWaker: @unchecked Sendable {
    public let fd: Int32
    private let sleeping = Doorbell()
    /// eventfd writes made (for metrics).
    public let kicks = Atomic<Int>(0)

    public init() throws {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError(call: "eventfd", errno: errno) }
    }

    deinit { close(fd) }

    /// Called by a producer after it published work.
    @inline(__always)
    public func wake() {
        if sleeping.ring() {
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
            kicks.add(1, ordering: .relaxed)
        }
    }

    /// Called by the sleeper before its last check for work.
    @inline(__always)
    public func announceSleep() { sleeping.announce() }

    @inline(__always)
    public func cancelSleep() { sleeping.cancel() }

    /// Clears the eventfd after it fired.
    public func drain() {
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }

    /// Wakes the sleeper whatever its state (shutdown, config changes).
    public func forceWake() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }
}

/// Registered with the loop, the eventfd only wakes it: the work is done
/// before the next sleep.
extension EventWaker: EventHandler {
    public func handleEvents(_ events: UInt32) { drain() }
}
