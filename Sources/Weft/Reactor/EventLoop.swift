import CWeftLinux
import Glibc

/// The whole event loop, in the manner of redis' `ae.c`: file events (epoll,
/// level-triggered), timers (a min-heap that sets the epoll timeout), and a
/// `beforeSleep` hook that runs once per turn before the loop blocks.
/// Registrants are small final classes (`EventHandler`, `EventLoopHooks`):
/// one protocol call per ready descriptor, as ae.c calls a function pointer.
///
/// Everything here runs on the one thread that calls `run()`.
public final class EventLoop {
    /// What is registered for one descriptor. `generation` is new for every
    /// registration and travels in `epoll_data` beside the fd, so an event of
    /// a closed descriptor whose number was reused within the same batch (a
    /// handler closed it, a later one accepted or dialed) never reaches the
    /// new owner; `mask` is what is registered now, so an event for bits
    /// switched off earlier in the batch (a paused reader) is not delivered.
    private struct Registration {
        var handler: EventHandler?
        var generation: UInt32 = 0
        var mask: UInt32 = 0
    }

    private let epfd: Int32
    private var registrations: [Registration] = []          // indexed by file descriptor
    private var nextGeneration: UInt32 = 1
    private let events: UnsafeMutablePointer<epoll_event>
    private let maxEvents = 256
    private var timers = TimerHeap()
    private var stopRequested = false

    /// Called around each sleep (none: the loop just sleeps).
    public var hooks: EventLoopHooks?

    public init() throws {
        epfd = try Syscall.epollCreate()
        events = .allocate(capacity: maxEvents)
    }

    deinit {
        Syscall.close(epfd)
        events.deallocate()
    }

    // MARK: file events

    /// Registers `fd` (which must not be registered) with a new generation.
    public func register(_ fd: Int32, events mask: UInt32, handler: EventHandler) throws {
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(), count: index + 1 - registrations.count))
        }
        let generation = nextGeneration
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        registrations[index] = Registration(handler: handler, generation: generation, mask: mask)
        do {
            try control(EPOLL_CTL_ADD, fd, mask, generation)
        } catch {
            registrations[index] = Registration()
            throw error
        }
    }

    public func modify(_ fd: Int32, events mask: UInt32) {
        let index = Int(fd)
        guard index < registrations.count, registrations[index].handler != nil else { return }
        registrations[index].mask = mask
        try? control(EPOLL_CTL_MOD, fd, mask, registrations[index].generation)
    }

    /// Forgets `fd`; call before closing it. Events of it still in the
    /// current batch are dropped.
    public func unregister(_ fd: Int32) {
        Syscall.epollRemove(epfd, fd)
        if Int(fd) < registrations.count { registrations[Int(fd)] = Registration() }
    }

    /// `epoll_data` as the loop uses it: the generation in the high half, the fd in the low.
    @inline(__always)
    static func token(fd: Int32, generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    private func control(_ op: Int32, _ fd: Int32, _ mask: UInt32, _ generation: UInt32) throws(SystemError) {
        try Syscall.epollControl(epfd, op, fd, events: mask, data: EventLoop.token(fd: fd, generation: generation))
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
        let urgent = hooks?.beforeSleep() ?? false
        var timeout = urgent ? 0 : maxWaitMillis
        if timeout > 0, let next = timers.nextDeadline {
            let now = MonotonicClock.now()
            let wait = next > now ? Int32(clamping: (next - now + 999_999) / 1_000_000) : 0
            timeout = min(timeout, wait)
        }
        let n = Syscall.epollWait(epfd, events, max: Int32(maxEvents), timeoutMillis: timeout)
        hooks?.afterSleep()
        if n > 0 {
            for i in 0..<n {
                let event = events[i]
                let token = event.data.u64
                let fd = Int(UInt32(truncatingIfNeeded: token))
                guard fd < registrations.count else { continue }
                let registration = registrations[fd]
                // Only the registration the event was armed for, and only bits it still wants
                // (errors and hang-ups always: epoll reports them unasked).
                let live = event.events & (registration.mask | Readiness.error | Readiness.hangUp)
                guard registration.generation == UInt32(truncatingIfNeeded: token >> 32), live != 0,
                      let handler = registration.handler else { continue }
                handler.handleEvents(live)
            }
        }
        if let next = timers.nextDeadline, next <= MonotonicClock.now() { runDueTimers() }
    }

    private func runDueTimers() {
        let now = MonotonicClock.now()
        while let action = timers.popDue(now: now) { action() }
    }
}
