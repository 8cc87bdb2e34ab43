/// Phase 2: when a replica is behind and must catch up by state transfer, and what it does after.
extension PBFTReplica {
    // MARK: state transfer

    /// Behind: asks the host to bring the ledger to checkpoint (sequence, id); h moves
    /// there now unless `movesH` is false (a NEW-VIEW's start that is not stable, `startFrom`).
    func requestStateTransfer(sequence: UInt64, id checkpointID: String, replicas: [UInt64], movesH: Bool = true) {
        if let t = stateTransferTarget, t.sequence >= sequence { return }
        stateTransferTarget = (sequence, checkpointID, movesH)
        stateTransferAskedTick = now
        if movesH, lowWatermark < sequence { moveWatermarks(to: sequence, id: checkpointID) }
        outputs.append(.stateTransfer(sequence: sequence, checkpointID: checkpointID, replicas: replicas.filter { $0 != id }))
    }

    /// The host's ledger now ends at checkpoint (sequence, checkpointID), whose last block
    /// carries `requestStamps`. Outstanding requests are forgotten: this replica cannot tell
    /// which of them the transferred blocks hold (the other replicas still order the ones
    /// that are not); the stamps say which are stale from now on.
    func stateTransferCompleted(sequence: UInt64, checkpointID: String, requestStamps: RequestStamps) {
        guard let t = stateTransferTarget, t.sequence == sequence, t.id == checkpointID else { return }
        stateTransferTarget = nil
        skipExecuted(to: sequence)
        // The ledger now ends at this checkpoint: announce it (idle, and on reconnection), not the id before.
        lastExecutedID = checkpointID
        lastExecutedTick = now
        lastDispatched = max(lastDispatched, sequence)
        seqNo = max(seqNo, sequence)
        pool = RequestPool(stamps: requestStamps)
        // The request timer goes with the pool; a new-view timer (a view change under way) stays.
        if activeView { timerDeadline = nil }
        lastProgressTick = now
        checkpoints.recordOwn(sequence: sequence, id: checkpointID)
        persist(PBFTPersistence.checkpointKey(sequence), Array(checkpointID.utf8))
        if t.movesH, lowWatermark < sequence { moveWatermarks(to: sequence, id: checkpointID) }
        announceViewStart()
        dispatchCommitted()
    }

    /// The host cannot transfer to `sequence` (its checkpoint id does not decode): forget
    /// that target, so the next weak certificate above what was executed (a checkpoint in
    /// the window, f+1 past it, or `watchProgress`) asks for another one.
    func stateTransferFailed(sequence: UInt64) {
        guard let t = stateTransferTarget, t.sequence == sequence else { return }
        stateTransferTarget = nil
        behind = true
        lastProgressTick = now
    }

    /// After a checkpoint above the window: if f+1 replicas are past our high
    /// watermark, we are behind. Transfer to the highest weak certificate (f+1
    /// matching) above the window, or else to one in the window above what we
    /// executed. Without one, h stays where it is and the checkpoints stay as
    /// evidence until one forms: h only ever moves to a checkpoint whose id this
    /// replica knows (Fabric moves h to the (f+1)-th highest sequence heard of, with
    /// no id; the replica then held h with neither the state nor a C-set entry, could
    /// not ask for that state after a restart, and no NEW-VIEW could include its
    /// VIEW-CHANGE: whole-host seed 1895).
    func checkBehind() {
        let highs = checkpoints.aboveWindow.values.filter { $0.sequenceNumber > highWatermark }
        guard highs.count >= options.f + 1 else { return }
        behind = true
        if let cert = checkpoints.weakCertificateAbove(highWatermark, weak: options.f + 1)
            ?? checkpoints.highestWeakCertificate(above: lastDispatched, weak: options.f + 1) {
            requestStateTransfer(sequence: cert.sequence, id: cert.id, replicas: cert.replicas)
        }
    }

    /// After a checkpoint inside the window, once f+1 replicas were seen past our
    /// window: transfer to the first weak certificate (f+1 matching) above what we executed.
    func checkWeakCertificate(_ c: Pbft_checkpoint) {
        guard behind, stateTransferTarget == nil, c.sequenceNumber > lastDispatched else { return }
        let vouching = checkpoints.replicas(sequence: c.sequenceNumber, id: c.id)
        guard vouching.count >= options.f + 1 else { return }
        behind = false
        requestStateTransfer(sequence: c.sequenceNumber, id: c.id, replicas: vouching)
    }

    /// Nothing executed here for a request timeout while f+1 replicas have checkpointed
    /// beyond us (we lack pre-prepares or commits they had, or we are alone in a later
    /// view): transfer to the highest such checkpoint.
    /// A transfer not completed after two request timeouts is asked again (of the
    /// replicas vouching for the newest weak certificate, or for the same target).
    func watchProgress() {
        if let t = stateTransferTarget {
            guard now - stateTransferAskedTick >= 2 * UInt64(options.requestTimeoutTicks) else { return }
            let cert = checkpoints.highestWeakCertificate(above: t.sequence, weak: options.f + 1)
            stateTransferTarget = nil
            if let cert {
                requestStateTransfer(sequence: cert.sequence, id: cert.id, replicas: cert.replicas)
            } else {
                let everyone = (0..<UInt64(options.n)).filter { $0 != id }
                requestStateTransfer(sequence: t.sequence, id: t.id, replicas: everyone, movesH: t.movesH)
            }
            return
        }
        guard now - lastProgressTick >= UInt64(options.requestTimeoutTicks) else { return }
        lastProgressTick = now
        guard let cert = checkpoints.highestWeakCertificate(above: lastDispatched, weak: options.f + 1) else { return }
        requestStateTransfer(sequence: cert.sequence, id: cert.id, replicas: cert.replicas)
    }
}
