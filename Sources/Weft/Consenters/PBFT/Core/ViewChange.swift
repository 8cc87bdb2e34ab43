import Foundation

/// View change, NEW-VIEW, batch fetching, timers and state transfer (phase 2).
extension PBFTReplica {
    // MARK: timers

    /// Soft-starts the request timer: outstanding requests and an active view.
    func startTimerIfOutstanding() {
        guard activeView, timerDeadline == nil, pool.count > 0 || !heldPrePrepares.isEmpty else { return }
        timerDeadline = now + UInt64(options.requestTimeoutTicks)
    }

    /// Progress: a batch executed. Restart the request timer if requests (or PRE-PREPAREs
    /// waiting for theirs) remain, else stop it; the view works, so the next new-view
    /// timeout starts from the configured one again. (A primary that orders everything but
    /// one replica's requests is caught by `watchOldestRequest` instead.)
    func restartTimerOnProgress() {
        guard activeView else { return }
        timerDeadline = pool.count > 0 || !heldPrePrepares.isEmpty ? now + UInt64(options.requestTimeoutTicks) : nil
        newViewTimeout = options.viewChangeTimeoutTicks
    }

    func tickViewChangeTimers() {
        watchProgress()
        watchOldestRequest()
        if let d = timerDeadline, now >= d {
            timerDeadline = nil
            if activeView { resendOwnRequests() }
            startViewChange(to: view + 1, reason: activeView ? .requestTimeout : .newViewTimeout)
        }
        if !activeView, let d = viewChangeResendDeadline, now >= d {
            viewChangeResendDeadline = now + UInt64(options.resendViewChangeTicks)
            if let own = viewChanges[view]?[id] { broadcast(.viewChange(own)) }
            resendOwnRequests()
        }
        if options.nullRequestTicks > 0, activeView, let d = nullRequestDeadline, now >= d {
            if isPrimary {
                if seqNo + 1 <= lowWatermark + options.logSize / 2 { propose(nil) }
                armNullRequestTimer()
            } else {
                nullRequestDeadline = nil
                startViewChange(to: view + 1, reason: .primaryIdle)
            }
        }
    }

    /// This replica's own clients' requests that are still outstanding may never have
    /// reached the others (a connection lost while they were spread): spread them again.
    func resendOwnRequests() {
        let own = pool.all.lazy.filter { $0.key.replica == self.id }.prefix(options.batchSize).map(\.request)
        if !own.isEmpty { outputs.append(.resendRequests(Array(own))) }
    }

    /// The primary sends a null request after `nullRequestTicks` idle; a backup that
    /// hears nothing from the primary for that plus the request timeout suspects it.
    func armNullRequestTimer() {
        guard options.nullRequestTicks > 0, activeView else { nullRequestDeadline = nil; return }
        let wait = isPrimary ? options.nullRequestTicks : options.nullRequestTicks + options.requestTimeoutTicks
        nullRequestDeadline = now + UInt64(wait)
    }

    // MARK: sending VIEW-CHANGE

    /// The P set: per sequence number, the digest prepared here in the latest view.
    func computePSet() -> [UInt64: Pbft_view_change.PQ] {
        var p = pset
        for key in log.sortedKeys {
            guard let cert = log.certs[key], let digest = cert.digest, isPrepared(view: key.view, sequence: key.sequence) else { continue }
            if let old = p[key.sequence], old.view > key.view { continue }
            var e = Pbft_view_change.PQ()
            e.sequenceNumber = key.sequence
            e.batchDigest = digest
            e.view = key.view
            p[key.sequence] = e
        }
        return p
    }

    /// The Q set: per (sequence number, digest), the latest view it pre-prepared here in.
    func computeQSet() -> [QKey: Pbft_view_change.PQ] {
        var q = qset
        for key in log.sortedKeys {
            guard let cert = log.certs[key], let digest = cert.digest else { continue }
            let k = QKey(sequence: key.sequence, digest: digest)
            if let old = q[k], old.view > key.view { continue }
            var e = Pbft_view_change.PQ()
            e.sequenceNumber = key.sequence
            e.batchDigest = digest
            e.view = key.view
            q[k] = e
        }
        return q
    }

    /// Leaves the current view for `target`: VIEW-CHANGE(target, h, C, P, Q) to all.
    func startViewChange(to target: UInt64, reason: PBFTViewChangeReason) {
        guard target > view else { return }
        let from = view
        pset = computePSet()
        qset = computeQSet()
        enterView(target)
        activeView = false
        log.dropViews(before: view)
        earlyPrePrepares = earlyPrePrepares.filter { $0.key.view >= view && $0.key.view <= view + 1 }
        heldPrePrepares.keep(view: view, above: lowWatermark)
        viewChanges = viewChanges.filter { $0.key >= view }
        viewEvidence = viewEvidence.filter { $0.value > view }
        newViews = newViews.filter { $0.key >= view }
        pendingNewViews = pendingNewViews.filter { $0.key >= view }
        missingBatches = []
        timerDeadline = nil
        nullRequestDeadline = nil
        batchTimerStart = nil
        newViewTimerStarted = false

        let vc = ownViewChange()
        persistView()
        persistInstalled()
        persist(PBFTPersistence.viewChangeKey, PBFTEncoding.bytes(vc))
        persist(PBFTPersistence.psetKey, PBFTPersistence.encode(vc.pset))
        persist(PBFTPersistence.qsetKey, PBFTPersistence.encode(vc.qset))
        counters.viewChanges += 1
        outputs.append(.viewChangeStarted(from: from, to: view, reason: reason))
        broadcast(.viewChange(vc))
        viewChangeResendDeadline = now + UInt64(options.resendViewChangeTicks)
        receiveViewChange(vc)
    }

    /// VIEW-CHANGE(view, h, C, P, Q) from the current state (P and Q already computed).
    func ownViewChange() -> Pbft_view_change {
        var vc = Pbft_view_change()
        vc.view = view
        vc.h = lowWatermark
        vc.cset = viewChangeCheckpoints
        vc.pset = pset.keys.sorted().map { pset[$0]! }
        vc.qset = qset.keys.sorted().map { qset[$0]! }
        vc.replicaID = id
        return vc
    }

    // MARK: receiving VIEW-CHANGE

    func receiveViewChange(_ vc: Pbft_view_change) {
        if vc.view < view || (vc.view == view && activeView) {
            // A replica behind us: send it our own VIEW-CHANGE for the current view (it
            // checks a NEW-VIEW's vset against the VIEW-CHANGEs it received) and, as the
            // primary of the current view, our NEW-VIEW.
            if activeView, vc.replicaID != id, vc.replicaID < UInt64(options.n) {
                // (At most once per resend period per replica: two active replicas would
                // otherwise answer each other's answers for ever.)
                if let own = viewChanges[view]?[id],
                   answeredBehind[vc.replicaID].map({ now >= $0 + UInt64(options.resendViewChangeTicks) }) ?? true {
                    answeredBehind[vc.replicaID] = now
                    send(.viewChange(own), to: vc.replicaID)
                }
                if isPrimary, let nv = newViews[view] { send(.newView(nv), to: vc.replicaID) }
            }
            return
        }
        guard ViewChangeRules.isWellFormed(vc, logSize: options.logSize) else { return }
        guard viewChanges[vc.view]?[vc.replicaID] == nil else { return }
        if vc.view > view {
            // One view-change per replica above our view, its highest: a faulty replica
            // cannot fill memory with view-changes for ever higher views.
            for v in viewChanges.keys where v > view && v != vc.view && viewChanges[v]?[vc.replicaID] != nil {
                if v > vc.view { return }
                viewChanges[v]![vc.replicaID] = nil
            }
            viewChanges = viewChanges.filter { !$0.value.isEmpty }
        }
        viewChanges[vc.view, default: [:]][vc.replicaID] = vc
        // A NEW-VIEW that waited for this VIEW-CHANGE is checked again.
        defer { recheckPendingNewView(vc.view) }

        // f+1 replicas want a later view: join the smallest of their views.
        var wanting = Set<UInt64>()
        var smallest = UInt64.max
        for (v, byReplica) in viewChanges where v > view {  // a set and a minimum: order-free
            for r in byReplica.keys { wanting.insert(r) }
            smallest = min(smallest, v)
        }
        if wanting.count >= options.f + 1 {
            startViewChange(to: smallest, reason: .joinedOthers)
            return
        }

        guard !activeView, vc.view == view else { return }
        let held = viewChanges[view]?.count ?? 0
        // The new-view timer starts at f+1 VIEW-CHANGEs for this view (one correct replica
        // besides us wants it), not N-f: a VIEW-CHANGE lost to us for good (its sender has
        // moved to a later view and resends only that one) would otherwise leave us in this
        // view without a timer, for ever (issue 21, L2). Early expiry only costs a view.
        if held >= options.f + 1, !newViewTimerStarted {
            // (The VIEW-CHANGE is still resent until the view is installed: a replica whose
            // NEW-VIEW was lost gets it again from the primary that way.)
            newViewTimerStarted = true
            timerDeadline = now + UInt64(newViewTimeout)
            newViewTimeout = min(newViewTimeout, 1 << 40) * 2  // doubles per failed attempt (bounded: no overflow)
        }
        guard held >= options.viewChangeQuorum else { return }
        if isPrimary { sendNewView() } else { processNewView() }
    }

    /// f+1 replicas work in views above ours (their prepares and commits say so): we
    /// missed a view change. Join the highest view f+1 of them have reached; its primary
    /// answers our VIEW-CHANGE with its NEW-VIEW.
    func noteView(_ v: UInt64, of replica: UInt64) {
        guard v > view, replica < UInt64(options.n), replica != id else { return }
        if let old = viewEvidence[replica], old >= v { return }
        viewEvidence[replica] = v
        let above = viewEvidence.values.filter { $0 > view }.sorted(by: >)  // sorted: order-free
        guard above.count >= options.f + 1 else { return }
        startViewChange(to: above[options.f], reason: .joinedOthers)
    }

    // MARK: NEW-VIEW

    /// The view-changes for the current view, in replica order.
    var currentViewChanges: [Pbft_view_change] {
        guard let byReplica = viewChanges[view] else { return [] }
        return byReplica.keys.sorted().map { byReplica[$0]! }
    }

    func sendNewView() {
        guard newViews[view] == nil else { return }
        let vset = currentViewChanges
        guard let cp = ViewChangeRules.initialCheckpoint(vset, f: options.f, quorum: options.quorum),
              let xset = ViewChangeRules.assignSequenceNumbers(vset, h: cp.sequence, logSize: options.logSize,
                                                               f: options.f, quorum: options.quorum)
        else { return }  // wait for more view-changes
        var nv = Pbft_new_view()
        nv.view = view
        nv.vset = vset
        nv.xset = xset
        nv.replicaID = id
        newViews[view] = nv
        persist(PBFTPersistence.newViewKey, PBFTEncoding.bytes(nv))  // before it leaves: never another for this view
        broadcast(.newView(nv))
        processNewView()
    }

    func receiveNewView(_ nv: Pbft_new_view) {
        guard nv.view > 0, nv.view >= view, newViews[nv.view] == nil else { return }
        guard nv.replicaID == primary(of: nv.view) else { counters.droppedNotFromPrimary += 1; return }
        // The vset must be N-f well-formed view-changes for this view from distinct replicas.
        var seen = Set<UInt64>()
        for vc in nv.vset {
            guard vc.view == nv.view, vc.replicaID < UInt64(options.n), seen.insert(vc.replicaID).inserted,
                  ViewChangeRules.isWellFormed(vc, logSize: options.logSize)
            else { counters.newViewsRefused += 1; return }
        }
        guard seen.count >= options.viewChangeQuorum else { counters.newViewsRefused += 1; return }
        acceptNewView(nv)
    }

    enum VsetCheck { case authentic, waiting, forged }

    /// Are the vset's VIEW-CHANGEs the ones their replicas sent? The entry claiming this
    /// replica must be the one it sent, always. Unless the host verified signatures
    /// (`options.viewChangesVerified`), every other entry must equal the VIEW-CHANGE
    /// received from that replica itself: `waiting` while some are not here yet.
    func checkVset(_ nv: Pbft_new_view) -> VsetCheck {
        var waiting = false
        for vc in nv.vset {
            let held = viewChanges[nv.view]?[vc.replicaID]
            if vc.replicaID == id || !options.viewChangesVerified {
                guard let held else {
                    if vc.replicaID == id { return .forged }  // this replica sent none for that view
                    waiting = true
                    continue
                }
                guard Self.sameViewChange(held, vc) else { return .forged }
            }
        }
        return waiting ? .waiting : .authentic
    }

    /// Equal but for the signature (the host signs each copy it sends).
    static func sameViewChange(_ a: Pbft_view_change, _ b: Pbft_view_change) -> Bool {
        var a = a, b = b
        a.signature = Data()
        b.signature = Data()
        return a == b
    }

    /// A well-formed NEW-VIEW from the right primary: install it once its vset is authentic.
    func acceptNewView(_ nv: Pbft_new_view) {
        switch checkVset(nv) {
        case .forged:
            counters.newViewsRefused += 1
            pendingNewViews[nv.view] = nil
            return
        case .waiting:
            // Replicas already in that view answer our VIEW-CHANGE with theirs.
            if pendingNewViews[nv.view] == nil, let own = viewChanges[nv.view]?[id] { broadcast(.viewChange(own)) }
            pendingNewViews[nv.view] = nv
            if pendingNewViews.count > options.n, let highest = pendingNewViews.keys.max() {
                pendingNewViews[highest] = nil
            }
            return
        case .authentic:
            pendingNewViews[nv.view] = nil
        }
        if nv.view > view {
            // N-f replicas left for nv.view; so do we.
            startViewChange(to: nv.view, reason: .joinedOthers)
        }
        newViews[nv.view] = nv
        processNewView()
    }

    func recheckPendingNewView(_ v: UInt64) {
        guard let nv = pendingNewViews[v], v >= view, newViews[v] == nil else { return }
        acceptNewView(nv)
    }

    /// Checks the NEW-VIEW of the current view against its vset and installs it.
    func processNewView() {
        guard !activeView, let nv = newViews[view] else { return }
        guard let cp = ViewChangeRules.initialCheckpoint(nv.vset, f: options.f, quorum: options.quorum),
              let xset = ViewChangeRules.assignSequenceNumbers(nv.vset, h: cp.sequence, logSize: options.logSize,
                                                               f: options.f, quorum: options.quorum),
              xset == nv.xset
        else {
            counters.newViewsRefused += 1
            newViews[view] = nil
            if nv.replicaID != id { startViewChange(to: view + 1, reason: .badNewView) }
            return
        }
        startFrom(cp)
        var missing: [String] = []
        for n in xset.keys.sorted() where n > lowWatermark {
            let d = xset[n]!
            if !d.isEmpty && log.batch(d) == nil && !missing.contains(d) { missing.append(d) }
        }
        if !missing.isEmpty {
            let fresh = missing.filter { !missingBatches.contains($0) }
            missingBatches = missing
            for d in fresh {
                var f = Pbft_fetch_request_batch()
                f.batchDigest = d
                f.replicaID = id
                broadcast(.fetchRequestBatch(f))
            }
            return
        }
        installNewView(nv)
    }

    /// The NEW-VIEW checked and every batch at hand: re-propose xset in this view.
    func installNewView(_ nv: Pbft_new_view) {
        activeView = true
        installedView = view
        persistInstalled()
        missingBatches = []
        timerDeadline = nil
        viewChangeResendDeadline = nil
        newViews = newViews.filter { $0.key >= view }
        pendingNewViews = pendingNewViews.filter { $0.key > view }
        seqNo = lowWatermark
        pool.clearPending()
        let xs = nv.xset.keys.sorted().filter { $0 > lowWatermark }
        let leader = primary(of: view)
        for n in xs {
            let d = nv.xset[n]!
            var pp = Pbft_pre_prepare()
            pp.view = view
            pp.sequenceNumber = n
            pp.batchDigest = d
            if !d.isEmpty, let batch = log.batch(d) {
                pp.requestBatch = batch
                log.storeBatch(batch, digest: d, sequence: n)
                if n > lastDispatched { pool.markPending(batch.batch.map(RequestKey.init)) }
            }
            pp.replicaID = leader
            log.update(view: view, sequence: n) { $0.prePrepare = pp }
            seqNo = max(seqNo, n)
        }
        seqNo = max(seqNo, lastDispatched)
        persistQSet()
        for n in xs { sendPrepare(view: view, sequence: n, digest: nv.xset[n]!) }
        outputs.append(.newViewInstalled(view))
        startTimerIfOutstanding()
        armNullRequestTimer()
        for n in xs { progress(view: view, sequence: n) }
        // Pre-prepares of this view that came before the NEW-VIEW.
        let early = earlyPrePrepares.keys.filter { $0.view == view }.sorted()
        let replay = early.map { earlyPrePrepares[$0]! }
        earlyPrePrepares = earlyPrePrepares.filter { $0.key.view > view }
        for pp in replay where pp.sequenceNumber > seqNo || log[view, pp.sequenceNumber]?.prePrepare == nil {
            receivePrePrepare(pp)
        }
        cutBatches()
    }

    // MARK: fetching batches

    func receiveFetchRequestBatch(_ f: Pbft_fetch_request_batch) {
        guard let batch = log.batch(f.batchDigest) else { return }
        send(.returnRequestBatch(batch), to: f.replicaID)
    }

    func receiveReturnRequestBatch(_ batch: Pbft_request_batch) {
        let d = PBFTDigest.of(batch)
        guard let i = missingBatches.firstIndex(of: d), let nv = newViews[view] else { return }  // unasked: ignore
        missingBatches.remove(at: i)
        let n = nv.xset.keys.sorted().last { nv.xset[$0] == d } ?? highWatermark
        log.storeBatch(batch, digest: d, sequence: n)
        persistBatch(batch, digest: d)
        if missingBatches.isEmpty { processNewView() }
    }

    // MARK: state transfer

    /// Behind: asks the host to bring the ledger to checkpoint (sequence, id).
    func requestStateTransfer(sequence: UInt64, id checkpointID: String, replicas: [UInt64]) {
        if let t = stateTransferTarget, t.sequence >= sequence { return }
        stateTransferTarget = (sequence, checkpointID)
        stateTransferAskedTick = now
        if lowWatermark < sequence { moveWatermarks(to: sequence, id: checkpointID) }
        outputs.append(.stateTransfer(sequence: sequence, checkpointID: checkpointID, replicas: replicas.filter { $0 != id }))
    }

    /// The host's ledger now ends at checkpoint (sequence, checkpointID). Outstanding
    /// requests are forgotten: this replica cannot tell which of them the transferred
    /// blocks hold (the other replicas still order the ones that are not).
    func stateTransferCompleted(sequence: UInt64, checkpointID: String) {
        guard let t = stateTransferTarget, t.sequence == sequence, t.id == checkpointID else { return }
        stateTransferTarget = nil
        skipExecuted(to: sequence)
        // The ledger now ends at this checkpoint: announce it (idle, and on reconnection), not the id before.
        lastExecutedID = checkpointID
        lastExecutedTick = now
        lastDispatched = max(lastDispatched, sequence)
        seqNo = max(seqNo, sequence)
        pool = RequestPool(keepingTimestampsOf: pool)
        timerDeadline = nil
        lastProgressTick = now
        checkpoints.recordOwn(sequence: sequence, id: checkpointID)
        persist(PBFTPersistence.checkpointKey(sequence), Array(checkpointID.utf8))
        if lowWatermark < sequence { moveWatermarks(to: sequence, id: checkpointID) }
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
    /// watermark, we are behind. Move the window up to the (f+1)-th highest, so
    /// their next checkpoints land in it and give a target to transfer to.
    func checkBehind() {
        let highs = checkpoints.aboveWindow.values.map(\.sequenceNumber).filter { $0 > highWatermark }.sorted(by: >)
        guard highs.count >= options.f + 1 else { return }
        let m = highs[options.f]
        behind = true
        if let cert = checkpoints.weakCertificateAbove(highWatermark, weak: options.f + 1) {
            requestStateTransfer(sequence: cert.sequence, id: cert.id, replicas: cert.replicas)
        } else {
            moveWatermarks(to: m)
        }
        checkpoints.clearAboveWindow()
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
                requestStateTransfer(sequence: t.sequence, id: t.id, replicas: everyone)
            }
            return
        }
        guard now - lastProgressTick >= UInt64(options.requestTimeoutTicks) else { return }
        lastProgressTick = now
        guard let cert = checkpoints.highestWeakCertificate(above: lastDispatched, weak: options.f + 1) else { return }
        requestStateTransfer(sequence: cert.sequence, id: cert.id, replicas: cert.replicas)
    }
}
