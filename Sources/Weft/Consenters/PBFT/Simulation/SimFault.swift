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

    var needsPowerLoss: Bool { [.powerLoss, .powerLossAtFsync, .powerLossAll].contains(self) }
}
