/// The host's view of time: a port, so the whole-host simulator can drive it.
/// (The replica itself has no clock: it counts `tick()`s.)
protocol PBFTClock: AnyObject {
    /// Monotonic nanoseconds: latencies and log rate limits.
    func monotonicNanos() -> UInt64
    /// The wall clock: request timestamps (Fabric stamps requests with it).
    func wallClock() -> (seconds: Int64, nanos: Int32)
}
