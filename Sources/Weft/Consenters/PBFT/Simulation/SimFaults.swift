/// Starts faults while the world is in its faulty phase: each tick, with the
/// scenario's rate, one fault from `SimFault`, on hosts or links the seed
/// picks. Crashes and disk faults hit correct replicas only (the byzantine one
/// is faulty already); at most one disk is ever wiped, and only when no replica
/// is byzantine (both count towards f).
final class SimFaults {
    unowned let world: SimWorld
    private var wiped = false
    private(set) var started: [SimFault: Int] = [:]
    /// Draws for the aimed faults, apart from the world's: the seeds' other draws stay as they were.
    private var aim: SimRandom
    /// Whether a `lost-view-changes` fault leaves the next primary down for good (a generator of its
    /// own, so that the aimed faults' draws stay as they were too).
    private var leave: SimRandom
    /// The ledger stall of `stall-then-power-loss` (its draws from a generator of its own too).
    let ledgerStall: SimLedgerStall
    /// The lagging backup of `idle-transfer-then-down` (its draws from a generator of its own too).
    let idleTransfer: SimIdleTransfer

    init(world: SimWorld) {
        self.world = world
        aim = SimRandom(seed: world.seed ^ 0xA1_3ED)
        leave = SimRandom(seed: world.seed ^ 0x1E_F7D0)
        ledgerStall = SimLedgerStall(world: world)
        idleTransfer = SimIdleTransfer(world: world)
    }

    private var n: Int { world.slots.count }

    func step() {
        ledgerStall.watch()
        idleTransfer.watch()
        guard world.rng.chance(world.scenario.faultRate) else { return }
        var fault = world.rng.pick(SimFault.drawn)
        if fault.needsPowerLoss && !world.scenario.powerLoss { fault = .kill }
        if fault == .wipe && (!world.scenario.allowWipe || wiped || leftDown > 0) { fault = .blip }
        // Everyone at once is rare: once in about five picks of it.
        if (fault == .killAll || fault == .powerLossAll || fault == .crashAllAtStep) && !world.rng.chance(0.2) { fault = .crashAtStep }
        if fault == .dropKind && aim.chance(0.5) { fault = .lostViewChanges }
        if fault == .dropKind && idleTransfer.aims(mayLeaveOneDown: mayLeaveOneDown) { fault = .idleTransferThenDown }
        if fault == .crashAtStep && aim.chance(0.3) { fault = .crashAfterNewView }
        if fault == .powerLoss && ledgerStall.aims() { fault = .stallThenPowerLoss }
        start(fault)
    }

    private func start(_ fault: SimFault) {
        let host = correctHost()
        let other = (host + 1 + world.rng.below(n - 1)) % n
        let millis = world.rng.between(100, 3000)
        started[fault, default: 0] += 1
        world.trace.note("-", "fault \(fault.rawValue): " + describe(fault, host, other, millis))
        let slot = world.slots[host]
        switch fault {
        case .kill:
            world.crash(slot, powerLoss: false, why: "killed", restartAfter: millis)
        case .powerLoss:
            world.crash(slot, powerLoss: true, why: "lost power", restartAfter: millis)
        case .crashAtStep:
            slot.incarnation.countdown = world.rng.between(0, 40)
            slot.plannedPowerLoss = world.scenario.powerLoss && world.rng.chance(0.5)
        case .crashAllAtStep:
            for s in world.slots where world.isCorrect(s.id) && s.isUp {
                s.incarnation.countdown = world.rng.between(0, 40)
                s.plannedPowerLoss = false
            }
        case .crashAtFsync:
            slot.crashAtFlush = false
        case .powerLossAtFsync:
            slot.crashAtFlush = true
        case .killAll, .powerLossAll:
            for s in world.slots where world.isCorrect(s.id) {
                world.crash(s, powerLoss: fault == .powerLossAll, why: "killed with every replica", restartAfter: world.rng.between(100, 1500))
            }
        case .wipe:
            wiped = true
            world.crash(slot, powerLoss: true, why: "disk replaced", restartAfter: nil)
            slot.disk.wipe()
            world.checker.forgetMessages(of: host)
            world.schedule(after: millis) { [unowned world] in world.restart(slot) }
        case .fullDisk:
            slot.disk.full = true
            world.schedule(after: millis) { [unowned world] in
                slot.disk.full = false
                if slot.hasFailed { world.crash(slot, powerLoss: false, why: "restarted by the operator after a full disk", restartAfter: 100) }
            }
        case .isolate:
            for peer in 0..<n where peer != host { world.network.breakLink(host, peer, for: millis) }
        case .split:
            let group = Set((0..<n).filter { _ in world.rng.chance(0.5) })
            for a in group { for b in 0..<n where !group.contains(b) { world.network.breakLink(a, b, for: millis) } }
        case .blip:
            world.network.breakLink(host, other, for: world.rng.between(50, 3000))
        case .loss:
            let p = [0.05, 0.2, 0.5][world.rng.below(3)]
            onLinks(host) { $0.lossUntil = self.until(millis); $0.loss = p }
        case .duplicate:
            onLinks(host) { $0.duplicateUntil = self.until(millis); $0.duplicate = 0.3 }
        case .reorder:
            onLinks(host) { $0.reorderUntil = self.until(millis) }
        case .delay:
            let extra = world.rng.between(20, 500)
            onLinks(host) { $0.delayUntil = self.until(millis); $0.delay = extra }
        case .dropKind:
            let kind = world.rng.pick(SimMessageKind.droppable)
            let inbound = world.rng.chance(0.5)
            for peer in 0..<n where peer != host {
                let (from, to) = inbound ? (peer, host) : (host, peer)
                world.network.update(from, to) { $0.dropUntil = self.until(millis); $0.dropKind = kind }
            }
            world.trace.note("-", "  dropping every \(kind.rawValue) \(inbound ? "to" : "from") vp\(host)")
        case .lostViewChanges:
            loseViewChanges(of: host, for: millis)
        case .crashAfterNewView:
            armCrashAfterNewView(near: host)
        case .stallThenPowerLoss:
            ledgerStall.begin()
        case .idleTransferThenDown:
            idleTransfer.begin()
        case .clockStep:
            world.crash(slot, powerLoss: false, why: "killed (its wall clock will be behind)", restartAfter: millis)
            slot.clock.skewMillis -= Int64(world.rng.between(1_000, 120_000))
        }
    }

    /// L2's window: `host`'s VIEW-CHANGEs (and their resends) reach no one for 1–6 s while the
    /// primary of the view after its current one is down longer, so the others move on to a view
    /// change that `host` alone may have left behind. On half of them (where f allows) that primary
    /// stays down for good: the wedge L2 is about needs f replicas missing after the window too.
    /// (`leaveDown` decides that instead of the draw, for the suite's scenario tests.)
    func loseViewChanges(of host: Int, for millis: Int, leaveDown: Bool? = nil) {
        let window = aim.between(1_000, 6_000)
        for peer in 0..<n where peer != host {
            world.network.update(host, peer) { $0.dropUntil = self.until(window); $0.dropKind = .viewChange }
        }
        let next = nextPrimary(after: host)
        guard world.isCorrect(next), next != host else {
            return world.trace.note("-", "  dropping every view-change from vp\(host) for \(window) ms")
        }
        let slot = world.slots[next]
        let forGood = !slot.leftDown && mayLeaveOneDown && (leaveDown ?? leave.chance(0.5))
        world.trace.note("-", "  dropping every view-change from vp\(host) for \(window) ms; vp\(next), the next view's primary, down\(forGood ? " for good" : "")")
        guard forGood else {
            return world.crash(slot, powerLoss: false, why: "killed (the next view's primary)", restartAfter: window + millis)
        }
        leaveDownForGood(slot, why: "killed (the next view's primary)")
    }

    /// Replicas left down for good so far.
    private(set) var leftDown = 0

    func leaveDownForGood(_ slot: SimHostSlot, why: String) {
        leftDown += 1
        world.leaveDown(slot, why: why)
    }

    /// Another replica may be left down while the faulty ones (byzantine, wiped, left down) stay within f.
    var mayLeaveOneDown: Bool {
        let faulty = (world.byzantine == nil ? 0 : 1) + (wiped ? 1 : 0) + leftDown
        return faulty < world.scenario.options.f
    }

    /// R1's window: the next view's primary dies within 0–3 effects of its first NEW-VIEW send
    /// (so some backups may hold it, others not), then restarts.
    private func armCrashAfterNewView(near host: Int) {
        let next = nextPrimary(after: host)
        guard world.isCorrect(next) else { return }
        world.slots[next].crashAfterNewView = aim.between(0, 3)
        world.trace.note("-", "  vp\(next) crashes right after its next NEW-VIEW")
    }

    /// The primary of the view after `host`'s current one (its view if down: 0).
    private func nextPrimary(after host: Int) -> Int {
        let view = world.slots[host].host?.replica.view ?? 0
        return Int((view + 1) % UInt64(n))
    }

    private func until(_ millis: Int) -> UInt64 { world.now + UInt64(millis) }

    /// Both directions of every link of `host`.
    private func onLinks(_ host: Int, _ change: (inout SimLink) -> Void) {
        for peer in 0..<n where peer != host {
            world.network.update(host, peer, change)
            world.network.update(peer, host, change)
        }
    }

    /// A correct replica not left down (a fault on one that never comes back would be lost).
    private func correctHost() -> Int {
        let correct = (0..<n).filter { world.isCorrect($0) && !world.slots[$0].leftDown }
        return world.rng.pick(correct)
    }

    private func describe(_ fault: SimFault, _ host: Int, _ other: Int, _ millis: Int) -> String {
        switch fault {
        case .blip: return "vp\(host)-vp\(other)"
        case .killAll, .powerLossAll, .split: return "\(millis) ms"
        case .stallThenPowerLoss: return "every correct validator"
        case .idleTransferThenDown: return "a correct backup"
        default: return "vp\(host) for \(millis) ms"
        }
    }
}
