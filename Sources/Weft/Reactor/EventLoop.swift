import CWeftLinux
import Glibc

/// Something the event loop calls when its descriptor is ready.
public protocol EventHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// Readiness bits, as epoll reports them.
public enum Readiness {
    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue
    public static let error = EPOLLERR.rawValue
    public static let hangUp = EPOLLHUP.rawValue
}

/// The whole event loop, in the manner of redis' `ae.c`: file events (epoll,
/// level-triggered), timers (a min-heap that sets the epoll timeout), and a
/// `beforeSleep` hook that runs once per turn before the loop blocks.
///
/// Everything here runs on the one thread that calls `run()`.
public final class EventLoop {
    private let epfd: Int32
    private var handlers: [EventHandler?] = []          // indexed by file descriptor
    private let events: UnsafeMutablePointer<epoll_event>
    private let maxEvents = 256
    private var timers = TimerHeap()
    private var stopRequested = false

    /// Runs once per turn before the loop sleeps; returns true when it left
    /// work that must not wait (the loop then polls without blocking).
    public var beforeSleep: () -> Bool = { false }
    /// Runs right after `epoll_wait` returns, before any handler.
    public var afterSleep: () -> Void = {}

    public init() throws {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw SystemError(call: "epoll_create1", errno: errno) }
        events = .allocate(capacity: maxEvents)
    }

    deinit {
        close(epfd)
        events.deallocate()
    }

    // MARK: file events

    public func register(_ fd: Int32, events mask: UInt32, handler: EventHandler) throws {
        let index = Int(fd)
        if index >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: index + 1 - handlers.count)) }
        handlers[index] = handler
        try control(EPOLL_CTL_ADD, fd, mask)
    }

    public func modify(_ fd: Int32, events mask: UInt32) {
        try? control(EPOLL_CTL_MOD, fd, mask)
    }

    /// Forgets `fd`; call before closing it.
    public func unregister(_ fd: Int32) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    private func control(_ op: Int32, _ fd: Int32, _ mask: UInt32) throws {
        var event = epoll_event()
        event.events = mask
        event.data.fd = fd
        guard epoll_ctl(epfd, op, fd, &event) == 0 else { throw SystemError(call: "epoll_ctl", errno: errno) }
    }

    // MARK: timers

    /// Runs `action` on the loop thread once `delayNanos` have passed. There is
    /// no cancel: an action checks whether it still applies (cheaper than a
    /// heap removal, and timers here are per connection, not per message).
    public func schedule(afterNanos delayNanos: UInt64, _ action: @escaping () -> Void) {
        timers.insert(deadline: MonotonicClock.now() &+ delayNanos, action: action)
    }

    // MARK: running

    public func stop() { stopRequested = true }

    /// Turns the loop until `stop()`.
    public func run() {
        while !stopRequested { turn(maxWaitMillis: 1000) }
    }

    /// One turn: the hook, one `epoll_wait`, ready handlers, due timers.
    public func turn(maxWaitMillis: Int32) {
        let urgent = beforeSleep()
        var timeout = urgent ? 0 : maxWaitMillis
        if timeout > 0, let next = timers.nextDeadline {
            let now = MonotonicClock.now()
            let wait = next > now ? Int32(clamping: (next - now + 999_999) / 1_000_000) : 0
            timeout = min(timeout, wait)
        }
        let n = epoll_wait(epfd, events, Int32(maxEvents), timeout)
        afterSleep()
        if n > 0 {
            for i in 0..<Int(n) {
                let event = events[i]
                let fd = Int(event.data.fd)
                if fd < handlers.count, let handler = handlers[fd] { handler.handleEvents(event.events) }
            }
        }
        if let next = timers.nextDeadline, next <= MonotonicClock.now() { runDueTimers() }
    }

    private func runDueTimers() {
        let now = MonotonicClock.now()
        while let action = timers.popDue(now: now) { action() }
    }
}

public enum MonotonicClock {
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// A binary min-heap of deadlines; ties keep insertion order.
struct TimerHeap {
    private struct Entry {
        var deadline: UInt64
        var sequence: UInt64
        var action: () -> Void
        func before(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
        }
    }
    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }
    var nextDeadline: UInt64? { heap.first?.deadline }

    mutating func insert(deadline: UInt64, action: @escaping () -> Void) {
        heap.append(Entry(deadline: deadline, sequence: nextSequence, action: action))
        nextSequence &+= 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].before(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(now: UInt64) -> (() -> Void)? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].before(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].before(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.action
    }
}
