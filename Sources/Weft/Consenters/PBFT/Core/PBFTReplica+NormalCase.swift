/// The normal case: the primary cuts batches and pre-prepares them; every replica prepares, commits and executes in order.
extension PBFTReplica {
    // MARK: the primary

    /// Cuts batches while there is a full one, or the batch timer has expired,
    /// and the next sequence number is at most h + L/2.
    func cutBatches() {
        // Not while behind: a primary that has not reached h cannot vouch for what follows.
        guard isPrimary, activeView, stateTransferTarget == nil, lastDispatched >= max(lowWatermark, viewStart.sequence)
        else { return }
        while true {
            if pool.unassignedCount == 0 {
                batchTimerStart = nil
                return
            }
            if batchTimerStart == nil { batchTimerStart = now }
            let full = pool.unassignedCount >= options.batchSize
            let expired = now - batchTimerStart! >= UInt64(options.batchTimeoutTicks)
            guard full || expired else { return }
            guard seqNo + 1 <= lowWatermark + options.logSize / 2 else { return }  // wait for a stable checkpoint
            let entries = pool.unassigned(limit: options.batchSize, maxBytes: options.maxBatchBytes)
            var batch = Pbft_request_batch()
            batch.batch = entries.map(\.request)
            propose(batch)
            batchTimerStart = pool.unassignedCount > 0 ? now : nil
        }
    }

    /// Sends PRE-PREPARE for `batch` (nil: a null request, digest "") at the next sequence number.
    func propose(_ batch: Pbft_request_batch?) {
        seqNo += 1
        var pp = Pbft_pre_prepare()
        pp.view = view
        pp.sequenceNumber = seqNo
        pp.replicaID = id
        if let batch {
            let digest = PBFTDigest.of(batch)
            pp.batchDigest = digest
            pp.requestBatch = batch
            pool.markPending(batch.batch.map(RequestKey.init))
            log.storeBatch(batch, digest: digest, sequence: seqNo)
            counters.batchesProposed += 1
            persistBatch(batch, digest: digest)
        }
        log.update(view: view, sequence: seqNo) { $0.prePrepare = pp }
        persistQSet()
        broadcast(.prePrepare(pp))
        armNullRequestTimer()
        progress(view: view, sequence: seqNo)
    }

    // MARK: normal case

    func receivePrePrepare(_ pp: Pbft_pre_prepare) {
        if pp.view > view { noteView(pp.view, of: pp.replicaID) }
        let n = pp.sequenceNumber
        let early = (pp.view == view && !activeView) || pp.view == view + 1
        guard (activeView && pp.view == view) || early else { counters.droppedWrongView += 1; return }
        guard pp.replicaID == primary(of: pp.view) else { counters.droppedNotFromPrimary += 1; return }
        guard inWindow(n) else { counters.droppedOutsideWatermarks += 1; return }
        if early {
            let key = CertKey(view: pp.view, sequence: n)
            if earlyPrePrepares[key] == nil { earlyPrePrepares[key] = pp }
            return
        }
        // At or below the view's starting checkpoint, everything was decided before the view.
        guard n > viewStart.sequence || viewStart.view != view else { counters.droppedOutsideWatermarks += 1; return }
        let isNull = pp.batchDigest.isEmpty && pp.requestBatch.batch.isEmpty
        guard isNull || PBFTDigest.of(pp.requestBatch) == pp.batchDigest else { counters.droppedBadDigest += 1; return }
        if let existing = log[view, n]?.digest {
            if existing != pp.batchDigest {
                counters.droppedConflictingDigest += 1
                startViewChange(to: view + 1, reason: .conflictingPrePrepare)
            }
            return  // a repeat
        }
        guard admitPrePrepare(pp) else { return }
        log.update(view: view, sequence: n) { $0.prePrepare = pp }
        if !isNull {
            log.storeBatch(pp.requestBatch, digest: pp.batchDigest, sequence: n)
            pool.markPending(pp.requestBatch.batch.map(RequestKey.init))
            persistBatch(pp.requestBatch, digest: pp.batchDigest)
        }
        persistQSet()
        startTimerIfOutstanding()
        armNullRequestTimer()
        sendPrepare(view: view, sequence: n, digest: pp.batchDigest)
        progress(view: view, sequence: n)
    }

    /// A backup's PREPARE for an accepted pre-prepare (recorded as its own too).
    func sendPrepare(view: UInt64, sequence n: UInt64, digest: String) {
        guard primary(of: view) != id, log[view, n]?.sentPrepare != true else { return }
        var p = Pbft_prepare()
        p.view = view
        p.sequenceNumber = n
        p.batchDigest = digest
        p.replicaID = id
        log.update(view: view, sequence: n) {
            $0.sentPrepare = true
            if $0.prepares[id] == nil { $0.prepares[id] = digest }
        }
        broadcast(.prepare(p))
    }

    func receivePrepare(_ p: Pbft_prepare) {
        if p.view > view { noteView(p.view, of: p.replicaID) }
        // The next view's too: they may come before this replica has moved.
        guard p.view == view || p.view == view + 1 else { counters.droppedWrongView += 1; return }
        guard inWindow(p.sequenceNumber) else { counters.droppedOutsideWatermarks += 1; return }
        guard p.replicaID != primary(of: p.view) else { return }  // the primary does not prepare
        log.update(view: p.view, sequence: p.sequenceNumber) {
            if $0.prepares[p.replicaID] == nil { $0.prepares[p.replicaID] = p.batchDigest }
        }
        releaseVouched(view: p.view, sequence: p.sequenceNumber)
        progress(view: p.view, sequence: p.sequenceNumber)
    }

    func receiveCommit(_ c: Pbft_commit) {
        if c.view > view { noteView(c.view, of: c.replicaID) }
        guard c.view == view || c.view == view + 1 else { counters.droppedWrongView += 1; return }
        guard inWindow(c.sequenceNumber) else { counters.droppedOutsideWatermarks += 1; return }
        log.update(view: c.view, sequence: c.sequenceNumber) {
            if $0.commits[c.replicaID] == nil { $0.commits[c.replicaID] = c.batchDigest }
        }
        progress(view: c.view, sequence: c.sequenceNumber)
    }

    func isPrepared(view: UInt64, sequence n: UInt64) -> Bool {
        guard let cert = log[view, n], let digest = cert.digest else { return false }
        return cert.prepareCount(for: digest, excluding: primary(of: view)) >= options.quorum - 1
    }

    func isCommitted(view: UInt64, sequence n: UInt64) -> Bool {
        guard isPrepared(view: view, sequence: n), let cert = log[view, n], let digest = cert.digest else { return false }
        return cert.commitCount(for: digest) >= options.quorum
    }

    /// After any new message for (view, n): commit once prepared, execute once committed.
    func progress(view v: UInt64, sequence n: UInt64) {
        guard let cert = log[v, n], let digest = cert.digest else { return }
        if !cert.sentCommit && isPrepared(view: v, sequence: n) {
            persistPSet()
            var c = Pbft_commit()
            c.view = v
            c.sequenceNumber = n
            c.batchDigest = digest
            c.replicaID = id
            log.update(view: v, sequence: n) {
                $0.sentCommit = true
                if $0.commits[id] == nil { $0.commits[id] = digest }
            }
            broadcast(.commit(c))
        }
        dispatchCommitted()
    }

    /// Hands committed batches to the host strictly in order, never skipping one.
    func dispatchCommitted() {
        while stateTransferTarget == nil {
            let n = lastDispatched + 1
            guard inWindow(n), isCommitted(view: view, sequence: n), let pp = log[view, n]?.prePrepare else { return }
            // A certificate restored without its batch (the record was lost) is never
            // executed as an empty block: wait; f+1 checkpoints past it bring a transfer.
            guard pp.batchDigest.isEmpty || log.batch(pp.batchDigest) != nil else { return }
            lastDispatched = n
            let batch: Pbft_request_batch? = pp.batchDigest.isEmpty ? nil : pp.requestBatch
            outputs.append(.execute(sequence: n, batch: batch, digest: pp.batchDigest))
            if let batch {
                let done = pool.executed(batch)
                if !done.completed.isEmpty { outputs.append(.requestsCompleted(done.completed)) }
                if !done.overtaken.isEmpty {
                    counters.overtakenRequests += done.overtaken.count
                    outputs.append(.requestsOvertaken(done.overtaken))
                }
            }
            restartTimerOnProgress()
            lastProgressTick = now
        }
    }
}
