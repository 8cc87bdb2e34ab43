import Foundation

/// View change: timers, sending and receiving VIEW-CHANGE (phase 2; NEW-VIEW, fetching and
/// state transfer are in PBFTReplica+NewView, +FetchBatch, +StateTransfer).
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
            let reason: PBFTViewChangeReason = !activeView ? .newViewTimeout
                : heldPrePrepares.anyContradicted ? .forgedRequest : .requestTimeout
            startViewChange(to: view + 1, reason: reason)
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

    /// The new-view timer of this view change; the next attempt waits twice as long (until a
    /// batch executes: `restartTimerOnProgress`), up to `maxNewViewTimeoutFactor` times the
    /// configured timeout. (Uncapped, whole-host seed 2076 reached 52 × 2^18 ticks after
    /// eighteen views left at once, and three replicas then waited out that timer for the
    /// rest of the run. Resetting it at each installed view instead was tried: in a congested
    /// network the next NEW-VIEW then came too late, and a replica ran ahead alone.)
    func startNewViewTimer() {
        newViewTimerStarted = true
        timerDeadline = now + UInt64(newViewTimeout)
        newViewTimeout = min(newViewTimeout * 2, options.viewChangeTimeoutTicks * Self.maxNewViewTimeoutFactor)
    }

    /// The cap on the doubling: a partition of more than f replicas that lasts an hour must
    /// not leave the timer at hours once it heals (2 s configured: at most 64 s).
    static let maxNewViewTimeoutFactor = 32

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
            p[key.sequence] = Self.pq(key, digest)
        }
        return p
    }

    /// A P or Q entry: `digest` at the certificate's (view, sequence number).
    static func pq(_ key: CertKey, _ digest: String) -> Pbft_view_change.PQ {
        var e = Pbft_view_change.PQ()
        e.sequenceNumber = key.sequence
        e.batchDigest = digest
        e.view = key.view
        return e
    }

    /// The Q set: per (sequence number, digest), the latest view it pre-prepared here in.
    func computeQSet() -> [QKey: Pbft_view_change.PQ] {
        var q = qset
        for key in log.sortedKeys {
            guard let cert = log.certs[key], let digest = cert.digest else { continue }
            let k = QKey(sequence: key.sequence, digest: digest)
            if let old = q[k], old.view > key.view { continue }
            q[k] = Self.pq(key, digest)
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
            startNewViewTimer()
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

}
