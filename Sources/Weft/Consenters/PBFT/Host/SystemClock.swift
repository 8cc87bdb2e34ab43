import Glibc

/// The real clocks: CLOCK_MONOTONIC through `MonotonicClock`, CLOCK_REALTIME.
final class SystemClock: PBFTClock {
    func monotonicNanos() -> UInt64 { MonotonicClock.now() }

    func wallClock() -> (seconds: Int64, nanos: Int32) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int64(now.tv_sec), Int32(now.tv_nsec))
    }
}
