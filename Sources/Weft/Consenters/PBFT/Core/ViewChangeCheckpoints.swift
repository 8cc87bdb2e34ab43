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

    /// The NEW-VIEW's starting checkpoint cp: the view's pre-prepares are above it, and
    /// this replica holds its state (executed, or fetched now) as one of its own checkpoints.
    ///
    /// h moves to cp only when cp is stable: 2f+1 VIEW-CHANGEs of the vset hold it, or 2f+1
    /// CHECKPOINTs (or cp is above the window: this replica is behind). f+1 holders are enough
    /// to start a view from (one correct replica reached cp), not to forget what lies below
    /// it: one of them may be the faulty replica, and the next NEW-VIEW may need this
    /// replica's h, C, P and Q below cp. With h moved on the word of f+1, whole-host seed
    /// 28977: vp2 started view 6 from checkpoint 6 held by vp1 and vp2, moved h to 6 and
    /// dropped P for 3-6; vp1 was then left down, vp0 (h 0) and vp3 (h 2) never reached 6,
    /// and no checkpoint had both f+1 holders and 2f+1 replicas at or below it, in any later
    /// view. Castro and Liskov's invariant is that a correct replica's h is a checkpoint
    /// 2f+1 announced. Every replica that holds cp announces it (`announceViewStart`), so
    /// once 2f+1 have installed the view, cp is stable everywhere and h follows.
    ///
    /// But the NEW-VIEW's re-proposals (up to `last`) must fit in (h, h + L]: they are this
    /// view's pre-prepares, a VIEW-CHANGE reports them in P and Q, and those sets hold only
    /// (h, h + L]. When they do not fit, h moves to cp, as in Fabric (whole-host seed 26221,
    /// with h kept: vp3, primary of view 3 from checkpoint 20 with h 5 and L 15, could not
    /// report its re-proposal of 21 in Q; with one other Q holder, no NEW-VIEW could follow).
    func startFrom(_ cp: ViewChangeRules.InitialCheckpoint, reproposingUpTo last: UInt64) {
        if viewStart != (view, cp.sequence, cp.id) {  // (a NEW-VIEW waiting for batches comes here again)
            viewStart = (view, cp.sequence, cp.id)
            viewStartAnnounced = false
            persist(PBFTPersistence.viewStartKey, Array("\(view) \(cp.sequence) \(cp.id)".utf8))
        }
        let stable = cp.replicas.count >= options.quorum
            || checkpoints.matching(sequence: cp.sequence, id: cp.id) >= options.quorum
            || cp.sequence > highWatermark || last > highWatermark
        if stable, lowWatermark < cp.sequence { moveWatermarks(to: cp.sequence, id: cp.id) }
        if lastDispatched < cp.sequence {
            requestStateTransfer(sequence: cp.sequence, id: cp.id, replicas: cp.replicas, movesH: stable)
        } else if cp.sequence >= lowWatermark, checkpoints.own[cp.sequence] == nil, !cp.id.isEmpty {
            checkpoints.recordOwn(sequence: cp.sequence, id: cp.id)
            persist(PBFTPersistence.checkpointKey(cp.sequence), Array(cp.id.utf8))
        }
        announceViewStart()
    }

    /// Announces the view's starting checkpoint once this replica's durable state reached it
    /// (executed or transferred), counting its own CHECKPOINT too: 2f+1 of them make it stable.
    func announceViewStart() {
        guard !viewStartAnnounced, viewStart.sequence > lowWatermark, lastExecuted >= viewStart.sequence,
              checkpoints.own[viewStart.sequence] == viewStart.id else { return }
        viewStartAnnounced = true
        let c = checkpoint(viewStart.sequence, viewStart.id)
        broadcast(.checkpoint(c))
        receiveCheckpoint(c)
    }
}
