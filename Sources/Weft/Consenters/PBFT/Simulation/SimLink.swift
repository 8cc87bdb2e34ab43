/// One direction of the connection between two hosts, and the faults on it
/// now. Times are simulated milliseconds; a fault is on while now < its `until`.
struct SimLink {
    /// Not established (a blip, a partition) until then.
    var downUntil: UInt64 = 0
    var lossUntil: UInt64 = 0
    var loss = 0.0
    var duplicateUntil: UInt64 = 0
    var duplicate = 0.0
    var delayUntil: UInt64 = 0
    var delay = 0
    /// Messages may overtake each other (else FIFO, as over one TCP connection).
    var reorderUntil: UInt64 = 0
    var dropUntil: UInt64 = 0
    var dropKind = SimMessageKind.other
    /// The last delivery time given, for FIFO order.
    var lastDelivery: UInt64 = 0
    /// Bumped when the connection breaks: what was in flight on the old one is lost.
    var epoch = 0

    func isUp(_ now: UInt64) -> Bool { now >= downUntil }

    /// Everything healed (the quiet phase); the connection itself is kept.
    mutating func heal() {
        downUntil = 0; lossUntil = 0; duplicateUntil = 0; delayUntil = 0; reorderUntil = 0; dropUntil = 0
    }
}
