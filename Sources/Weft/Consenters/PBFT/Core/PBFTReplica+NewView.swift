import Foundation

/// Phase 2: building, checking and installing a NEW-VIEW.
extension PBFTReplica {
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
        startFrom(cp, reproposingUpTo: xset.keys.max() ?? 0)  // h first: the xset must fit in (h, h + L]
        recordInQSet(nv)
        broadcast(.newView(nv))
        processNewView()
    }

    /// A NEW-VIEW is its primary's PRE-PREPARE, in its view, of every sequence number in its
    /// xset: they enter the Q set now, recorded before it leaves, not only once the view is
    /// installed here, which may wait for a batch to fetch, or never come (a crash). Backups
    /// prepare them on its word alone (whole-host seed 27921: vp1 sent NEW-VIEW(1) re-proposing
    /// 15 and 16, lacked 15's batch, crashed and never installed view 1; vp0 and vp2 prepared
    /// both in view 1, and vp2 then stayed down: with 15 in view 1 in one Q set only, A2 failed
    /// and no NEW-VIEW could be built in any later view).
    func recordInQSet(_ nv: Pbft_new_view) {
        for (n, d) in nv.xset where n > lowWatermark {
            let key = QKey(sequence: n, digest: d)
            if let old = qset[key], old.view >= nv.view { continue }
            qset[key] = Self.pq(CertKey(view: nv.view, sequence: n), d)
        }
        persistQSet()
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

    /// Equal but for the signature and the signer's certificate (the host seals each copy it sends).
    static func sameViewChange(_ a: Pbft_view_change, _ b: Pbft_view_change) -> Bool {
        var a = a, b = b
        a.signature = Data()
        b.signature = Data()
        a.certificate = Data()
        b.certificate = Data()
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
        startFrom(cp, reproposingUpTo: xset.keys.max() ?? 0)
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
        // The primary never assigns a sequence number at or below the view's start or its re-proposals.
        seqNo = max(lowWatermark, viewStart.sequence, nv.xset.keys.max() ?? 0, lastDispatched)
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
        }
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
}
