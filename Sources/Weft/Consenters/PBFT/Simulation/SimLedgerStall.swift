/// The `stall-then-power-loss` fault (L3's window): every correct replica's
/// *ledger* disk stalls for a few seconds (the ledger writer's turn comes
/// 200-1500 ms after it has work, a turn already due is pushed back alike)
/// while the records writer keeps its speed, as a block file on a busy disk.
/// The first time a checkpoint above every sequence executed before the stall
/// is stable with its records durable at 2f+1 correct replicas, every correct
/// replica loses power at once (unsynced writes lost) and restarts 100-1500 ms
/// later. With the L3 fix the blocks behind that checkpoint are durable at
/// those replicas; without it they may be in no durable ledger at all.
/// Draws come from a generator of its own, so a seed's other draws stay.
final class SimLedgerStall {
    unowned let world: SimWorld
    private var random: SimRandom
    /// When the stall ends (nil: none on).
    private var until: UInt64?
    /// The highest sequence a correct replica had executed when the stall began.
    private var mark: UInt64 = 0
    /// Stalls whose power loss struck (for the suite).
    private(set) var powerLosses = 0

    init(world: SimWorld) {
        self.world = world
        random = SimRandom(seed: world.seed ^ 0x57A1_1ED)
    }

    var isOn: Bool { until.map { world.now < $0 && !world.quiet } ?? false }

    /// Whether a drawn `power-loss` becomes this fault instead (half of them, none while one is on).
    func aims() -> Bool { !isOn && random.chance(0.5) }

    /// Extra milliseconds before `host`'s ledger writer's next turn: 0 unless stalled.
    func extraLedgerMillis(of host: Int) -> Int {
        guard isOn, world.isCorrect(host) else { return 0 }
        return random.between(200, 1_500)
    }

    /// The stall begins now, for `millis` (2-6 s drawn when nil).
    func begin(for millis: Int? = nil) {
        let window = millis ?? random.between(2_000, 6_000)
        until = world.now + UInt64(window)
        let correct = world.slots.filter { world.isCorrect($0.id) }
        mark = correct.compactMap { $0.host?.replica.lastExecuted }.max() ?? 0
        for slot in correct {
            if let due = slot.flushAt { slot.flushAt = max(due, world.now + UInt64(random.between(200, 1_500))) }
        }
        world.trace.note("-", "  every correct ledger's fsync stalled 200-1500 ms for \(window) ms; the power goes once a checkpoint above sequence \(mark) is stable and durable at 2f+1")
    }

    /// Each tick while faults are on: the stall ends, or the power goes.
    func watch() {
        guard let end = until else { return }
        guard world.now < end, !world.quiet else {
            until = nil
            return world.trace.note("-", "ledger stall ends: no checkpoint above sequence \(mark) was stable at 2f+1 meanwhile")
        }
        let correct = world.slots.filter { world.isCorrect($0.id) }
        let stable = correct.filter { durableLowWatermark(of: $0) > mark }
        guard stable.count >= 2 * world.scenario.options.f + 1 else { return }
        until = nil
        powerLosses += 1
        let state = correct.map { "\($0.name) h \(durableLowWatermark(of: $0)) ledger \($0.disk.syncedBlocks.count)" }
        world.trace.note("-", "power goes during the ledger stall: " + state.joined(separator: ", "))
        for slot in correct {
            world.crash(slot, powerLoss: true, why: "lost power with every replica (ledger stalled)", restartAfter: random.between(100, 1_500))
        }
    }

    /// h as the replica's durable records hold it (what a restart after a power loss finds).
    private func durableLowWatermark(of slot: SimHostSlot) -> UInt64 {
        PBFTPersistence.decodeStable(slot.disk.syncedRecords[PBFTPersistence.stableKey])?.sequence ?? 0
    }
}
