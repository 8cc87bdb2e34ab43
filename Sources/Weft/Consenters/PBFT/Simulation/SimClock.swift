/// A host's clocks: the world's simulated time, and a wall clock that may be
/// skewed or stepped back (an NTP step) by a fault.
final class SimClock: PBFTClock {
    /// 2023-11-14 22:13:20 UTC: where every simulated wall clock starts.
    static let epochSeconds: Int64 = 1_700_000_000
    private let millis: () -> UInt64
    /// Added to the wall clock (negative: behind).
    var skewMillis: Int64

    init(skewMillis: Int64, millis: @escaping () -> UInt64) {
        self.skewMillis = skewMillis
        self.millis = millis
    }

    func monotonicNanos() -> UInt64 { millis() * 1_000_000 }

    func wallClock() -> (seconds: Int64, nanos: Int32) {
        let wall = Self.epochSeconds * 1000 + Int64(millis()) + skewMillis
        return (wall / 1000, Int32(wall % 1000) * 1_000_000)
    }
}
