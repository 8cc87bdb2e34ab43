/// When the clients' load of the quiet phase runs (`SimWorld.loadTicks`): for a third of
/// the quiet phase, from the first tick at or after a sixth of it at which every request
/// sent before is answered (the faulty phase's backlog drained), at the latest from a third
/// of it. A request of the load must not be judged by the answer bound while it waits behind
/// requests the faulty phase piled up, which the bound does not count (seed 2980: offered
/// 0.5 a tick through the faults against about 0.28 ordered, the backlog took 18 s to drain
/// and the load's first requests waited behind it). A cluster that has not drained by the
/// latest start is judged on its load anyway: a stall is not hidden.
final class SimLoadPhase {
    let earliest: Int
    let latest: Int
    let length: Int
    private(set) var start: Int?
    /// Requests before this index are answered, or will never be (see `SimWorld.backlogAnswered`).
    var scanned = 0

    init(steps: Int, quietTicks: Int) {
        earliest = steps + quietTicks / 6
        latest = steps + quietTicks / 3
        length = quietTicks / 3
    }

    /// The load's ticks; empty until it starts.
    var ticks: Range<Int> { start.map { $0..<($0 + length) } ?? 0..<0 }

    /// Starts the load at `tick` if it is due; true when it started now.
    func startIfDue(tick: Int, backlogAnswered: () -> Bool) -> Bool {
        guard start == nil, tick >= earliest, tick >= latest || backlogAnswered() else { return false }
        start = tick
        return true
    }
}
