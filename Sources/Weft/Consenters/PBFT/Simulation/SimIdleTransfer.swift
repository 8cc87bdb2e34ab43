/// The `idle-transfer-then-down` fault (L1's window): one correct backup
/// misses every COMMIT for 1-3 s while the load runs; then the clients pause,
/// so the others go idle after a sequence number that no K-th checkpoint may
/// cover and announce it, and the backup catches up by state transfer to that
/// idle checkpoint, its h above theirs. Once it has (the idle checkpoint is
/// not a K-th one, and every other correct replica is up and executed it
/// itself), the primary is left down for good, where f allows.
/// The replicas left must build a NEW-VIEW over a mix of K-th and idle
/// checkpoints: with the L1 fix the idle one is in every C set; without it
/// it has one holder, and the backup's h is above the K-th one.
/// Draws come from a generator of its own, so a seed's other draws stay.
final class SimIdleTransfer {
    unowned let world: SimWorld
    private var random: SimRandom
    private enum Phase {
        case lagging(backup: Int, until: UInt64)
        case idle(backup: Int, until: UInt64)
    }
    private var phase: Phase?
    /// Primaries left down after a backup's transfer to an idle checkpoint (for the suite).
    private(set) var primariesLeftDown = 0

    init(world: SimWorld) {
        self.world = world
        random = SimRandom(seed: world.seed ^ 0x1D1E_7F)
    }

    /// Whether a drawn `drop-kind` becomes this fault: a quarter of them, none while one is
    /// on, and only where one more replica may stay down (`mayLeaveOneDown`).
    func aims(mayLeaveOneDown: Bool) -> Bool { phase == nil && mayLeaveOneDown && random.chance(0.25) }

    /// The clients send nothing while the backup catches up.
    var pausesClients: Bool {
        if case .idle = phase { return !world.quiet }
        return false
    }

    func begin() {
        let n = world.slots.count
        let up = world.slots.filter { world.isCorrect($0.id) && !$0.leftDown }.compactMap { $0.host?.replica }
        guard let view = up.map(\.view).max() else { return world.trace.note("-", "  no correct replica up: no lagging backup") }
        let primary = Int(view % UInt64(n))
        // Not the next view's primary either: a view change while it lags would make it the primary.
        let backups = world.slots.filter {
            world.isCorrect($0.id) && !$0.leftDown && $0.isUp && $0.id != primary && $0.id != (primary + 1) % n
        }.map(\.id)
        guard !backups.isEmpty else { return world.trace.note("-", "  no correct backup up: no lagging backup") }
        let backup = random.pick(backups)
        let lag = random.between(1_000, 3_000)
        for peer in 0..<n where peer != backup {
            world.network.update(peer, backup) { $0.dropUntil = self.world.now + UInt64(lag); $0.dropKind = .commit }
        }
        phase = .lagging(backup: backup, until: world.now + UInt64(lag))
        world.trace.note("-", "  every commit to vp\(backup) dropped for \(lag) ms; then the clients pause until it transfers to an idle checkpoint above the others' h, and the primary goes down for good")
    }

    /// Each tick while faults are on.
    func watch() {
        guard let current = phase else { return }
        guard !world.quiet else { phase = nil; return }
        switch current {
        case .lagging(let backup, let until):
            guard world.now >= until else { return }
            // Idle long enough for the others to announce (a request timeout) and the backup to
            // notice it is behind (another) and fetch the blocks.
            let window = 10 * 4 * world.scenario.options.requestTimeoutTicks + 2_000
            phase = .idle(backup: backup, until: world.now + UInt64(window))
            world.trace.note("-", "idle transfer: the clients pause for up to \(window) ms")
        case .idle(let backup, let until):
            guard world.now < until else {
                phase = nil
                return world.trace.note("-", "idle transfer ends: vp\(backup) did not transfer above the others' h")
            }
            guard let lagging = world.slots[backup].host?.replica else { return }
            // The others executed the idle checkpoint themselves (none transferred to it) and
            // their h is below it: only their announcements put it in their C sets.
            let others = world.slots.filter { world.isCorrect($0.id) && !$0.leftDown && $0.id != backup }
            let h = lagging.lowWatermark
            guard h % world.scenario.options.k != 0, lagging.lastExecuted >= h,
                  others.allSatisfy({ $0.host.map { $0.replica.lowWatermark < h && $0.replica.lastExecuted >= h } ?? false })
            else { return }
            phase = nil
            let primary = Int(lagging.view % UInt64(world.slots.count))
            // (Another fault may have wiped a disk or left a replica down meanwhile: then f allows no more.)
            guard primary != backup, world.isCorrect(primary), world.slots[primary].isUp, world.faults.mayLeaveOneDown else {
                return world.trace.note("-", "idle transfer: vp\(backup) at h \(h); its view's primary vp\(primary) is not one to leave down now")
            }
            primariesLeftDown += 1
            world.trace.note("-", "idle transfer: vp\(backup) transferred to the idle checkpoint \(h), above the others' h; the primary vp\(primary) goes down for good")
            world.faults.leaveDownForGood(world.slots[primary], why: "killed (the primary, after an idle transfer)")
        }
    }
}
