/// The faults the simulator injects while faults are on (see docs/FAULTS.md).
enum SimFault: String, CaseIterable, Sendable {
    /// Processes.
    case kill, crashAtStep = "crash-at-step", crashAtFsync = "crash-at-fsync", killAll = "kill-all"
    /// Every correct validator dies at a step of its own soon (e.g. after a CHECKPOINT, before its block's fsync).
    case crashAllAtStep = "crash-all-at-step"
    /// Power: unsynced writes lost.
    case powerLoss = "power-loss", powerLossAtFsync = "power-loss-at-fsync", powerLossAll = "power-loss-all"
    /// Disks.
    case wipe, fullDisk = "full-disk"
    /// Links.
    case isolate, split, blip, loss, duplicate, reorder, delay, dropKind = "drop-kind"
    /// Clocks: a restart with the wall clock stepped back.
    case clockStep = "clock-step"
    /// Aimed (drawn in place of a `drop-kind` or a `crash-at-step`, see `SimFaults`): one replica's
    /// VIEW-CHANGEs lost to everyone while the next view's primary is down (L2), and the next
    /// view's primary crashing within a few effects of sending its NEW-VIEW (R1).
    case lostViewChanges = "lost-view-changes", crashAfterNewView = "crash-after-new-view"
    /// Aimed (drawn in place of half the `power-loss`es, see `SimLedgerStall`): every correct ledger's
    /// fsync stalls, and every correct replica loses power once a checkpoint is stable (L3).
    case stallThenPowerLoss = "stall-then-power-loss"
    /// Aimed (drawn in place of some `drop-kind`s, see `SimIdleTransfer`): a backup misses the last
    /// commits, transfers to an idle checkpoint above the others' h, then the primary stays down (L1).
    case idleTransferThenDown = "idle-transfer-then-down"

    /// The faults drawn uniformly each time one starts (the aimed ones replace some of them).
    static let drawn: [SimFault] = allCases.filter { ![.lostViewChanges, .crashAfterNewView, .stallThenPowerLoss, .idleTransferThenDown].contains($0) }

    var needsPowerLoss: Bool { [.powerLoss, .powerLossAtFsync, .powerLossAll, .stallThenPowerLoss].contains(self) }
}
