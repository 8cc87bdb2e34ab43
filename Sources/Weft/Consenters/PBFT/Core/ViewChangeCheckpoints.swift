/// The C set of this replica's VIEW-CHANGE (issue 21, L1).
///
/// Castro and Liskov's NEW-VIEW starts from the highest checkpoint (n, d) that
/// f+1 VIEW-CHANGEs hold in C (so one correct replica's state after executing
/// n has digest d: the state every correct replica reaches after n) and that a
/// quorum have h <= n (so their P sets cover every sequence number above it).
/// Nothing in that argument needs n to be a multiple of K: K only says when a
/// replica *takes* checkpoints, to bound its log. A correct replica's ledger
/// after any executed n is such a state, and n is committed, so every sequence
/// number at or below it is decided and nothing the new view must re-propose is
/// skipped by starting there. Hence C also holds the replica's last executed
/// checkpoint when no K-th one covers it (an idle checkpoint it executed to, or
/// transferred to). Without it, a replica that transferred to an idle checkpoint
/// (h = 15, C = {15}) next to replicas at h = 10, C = {10} leaves no checkpoint
/// that both f+1 hold and a quorum is at or above: no NEW-VIEW, in any view.
extension PBFTReplica {
    var viewChangeCheckpoints: [Pbft_view_change.C] {
        var own = checkpoints.ownSorted
        // Checkpoints it announced between K-th ones stay in C after it executes past them: a
        // replica may have moved h to one on the word of f+1 announcers (whole-host seed 5240:
        // vp0 transferred to the idle 47 that vp2 and vp3 announced; vp3 went on to 50, its C
        // held 45 and 50, vp2 stayed down, and no checkpoint had both f+1 holders and a quorum
        // at or below it: no NEW-VIEW in any view).
        for (sequence, id) in checkpoints.announced where checkpoints.own[sequence] == nil {
            own.append((sequence, id))
        }
        if lastExecuted >= lowWatermark, lastExecuted <= highWatermark, !lastExecutedID.isEmpty,
           !own.contains(where: { $0.sequence == lastExecuted }) {
            own.append((lastExecuted, lastExecutedID))
        }
        own.sort { $0.sequence < $1.sequence }
        return own.map {
            var c = Pbft_view_change.C()
            c.sequenceNumber = $0.sequence
            c.id = $0.id
            return c
        }
    }

    /// The NEW-VIEW's starting checkpoint becomes h. A replica that has already
    /// dispatched up to it holds that state (correct replicas agree on every
    /// executed prefix, and f+1 vouch for it): it becomes one of its own, so the
    /// next VIEW-CHANGE's C set proves h (as a stable checkpoint's would). Else
    /// it is fetched, and recorded when the transfer completes.
    func startFrom(_ cp: ViewChangeRules.InitialCheckpoint) {
        if lowWatermark < cp.sequence { moveWatermarks(to: cp.sequence, id: cp.id) }
        if lastDispatched < cp.sequence {
            requestStateTransfer(sequence: cp.sequence, id: cp.id, replicas: cp.replicas)
        } else if cp.sequence == lowWatermark, checkpoints.own[cp.sequence] == nil, !cp.id.isEmpty {
            checkpoints.recordOwn(sequence: cp.sequence, id: cp.id)
            persist(PBFTPersistence.checkpointKey(cp.sequence), Array(cp.id.utf8))
        }
    }
}
