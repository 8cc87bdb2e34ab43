/// One PBFT replica as a deterministic state machine (Castro and Liskov, as
/// Fabric v0.6's `consensus/pbft` batch mode ran it; PROTOCOL.md section 8).
///
/// No clock, randomness, I/O or locks: inputs are the calls below, time is
/// `tick()`, outputs are drained with `takeActions()`. The same inputs in the
/// same order give the same outputs. Dictionaries are only looked up, counted
/// or walked through sorted keys. Single-threaded.
final class PBFTReplica {
    let id: UInt64
    let options: PBFTOptions
    private(set) var view: UInt64 = 0
    /// h: the last stable checkpoint. Sequence numbers are accepted in (h, h + L].
    private(set) var lowWatermark: UInt64
    /// The last sequence number the host reported executed.
    private(set) var lastExecuted: UInt64
    var counters = PBFTCounters()

    var primary: UInt64 { primary(of: view) }
    var outstandingCount: Int { pool.count }
    var isPrimary: Bool { primary == id }

    // MARK: state (internal so the view-change extension and tests can see it)

    /// Logical time.
    private(set) var now: UInt64 = 0
    /// False between sending a VIEW-CHANGE and installing the NEW-VIEW.
    var activeView = true
    /// The last view installed here (0: the first).
    var installedView: UInt64 = 0
    /// The "stable" record (h) was written, or read at a restart; else it goes with the first record.
    var stableRecorded = false
    /// The last sequence number this replica assigned as primary.
    var seqNo: UInt64
    /// The last sequence number handed to the host in `.execute`.
    var lastDispatched: UInt64
    var pool = RequestPool()
    var log = MessageLog()
    var checkpoints = Checkpoints()
    /// When the primary's batch timer started (the first unassigned request), if running.
    var batchTimerStart: UInt64?
    var outputs: [PBFTAction] = []

    // Phase 2 state.
    /// Prepared (P) and pre-prepared (Q) certificates carried across view changes.
    var pset: [UInt64: Pbft_view_change.PQ] = [:]
    var qset: [QKey: Pbft_view_change.PQ] = [:]
    /// view -> replica -> VIEW-CHANGE.
    var viewChanges: [UInt64: [UInt64: Pbft_view_change]] = [:]
    var newViews: [UInt64: Pbft_new_view] = [:]
    /// NEW-VIEWs whose vset holds VIEW-CHANGEs this replica has not received yet
    /// (unverified mode): one per view, at most N views, re-checked as VIEW-CHANGEs arrive.
    var pendingNewViews: [UInt64: Pbft_new_view] = [:]
    /// replica -> when this replica last answered its VIEW-CHANGE for a view we are active in.
    var answeredBehind: [UInt64: UInt64] = [:]
    /// Batches a NEW-VIEW needs that this replica lacks (sorted digests).
    var missingBatches: [String] = []
    /// The view-change timer (request timeout or new-view timeout): its deadline.
    var timerDeadline: UInt64?
    var viewChangeResendDeadline: UInt64?
    /// The new-view timeout of the next attempt (doubles per failed attempt).
    var newViewTimeout: Int
    /// The primary's null-request timer / a backup's watch on the primary.
    var nullRequestDeadline: UInt64?
    /// A state transfer asked of the host and not yet completed, and when it was asked.
    var stateTransferTarget: (sequence: UInt64, id: String)?
    var stateTransferAskedTick: UInt64 = 0
    /// The new-view timer of the current view change has started (at N-f view-changes).
    var newViewTimerStarted = false
    /// f+1 replicas were seen past our high watermark: transfer at the next weak certificate.
    var behind = false
    /// Pre-prepares of a view this replica has not installed yet (the current one while
    /// inactive, or the next): a NEW-VIEW can arrive after the new primary's first
    /// pre-prepares. Replayed on installation; at most L per view, two views.
    var earlyPrePrepares: [CertKey: Pbft_pre_prepare] = [:]
    /// PRE-PREPAREs waiting for requests of their batch to arrive from their origins.
    var heldPrePrepares = HeldPrePrepares()
    /// What this replica made for its own clients (recent ones), kept across state transfers.
    var ownRequests = OwnRequests()
    /// The oldest outstanding request, the view, and since when it was the oldest here (see `watchOldestRequest`).
    var oldestWatch: (key: RequestKey, view: UInt64, since: UInt64)?
    /// When this replica last executed (or transferred) something.
    var lastProgressTick: UInt64 = 0
    /// The checkpoint id after `lastExecuted`, when it was executed, and the
    /// last sequence number a checkpoint was sent for (see `announceIdleCheckpoint`).
    var lastExecutedID = ""
    var lastExecutedTick: UInt64 = 0
    var lastAnnounced: UInt64 = 0
    /// replica -> the highest view of a normal-case message it sent us, when above ours.
    var viewEvidence: [UInt64: UInt64] = [:]

    struct QKey: Hashable, Comparable {
        let sequence: UInt64
        let digest: String
        static func < (a: QKey, b: QKey) -> Bool { (a.sequence, a.digest) < (b.sequence, b.digest) }
    }

    /// - Parameters:
    ///   - lastExecuted: the sequence number of the last batch in the ledger (restart).
    ///   - lastCheckpointID: the checkpoint id of the ledger at `lastExecuted`, if known.
    init(id: UInt64, options: PBFTOptions, lastExecuted: UInt64 = 0, lastCheckpointID: String = "") {
        self.id = id
        self.options = options
        self.lastExecuted = lastExecuted
        self.lowWatermark = lastExecuted
        self.seqNo = lastExecuted
        self.lastDispatched = lastExecuted
        self.newViewTimeout = options.viewChangeTimeoutTicks
        // The starting state is a checkpoint (Fabric's genesis checkpoint): view changes need one.
        checkpoints.recordOwn(sequence: lastExecuted, id: lastCheckpointID)
        lastExecutedID = lastCheckpointID  // what a restarted replica announces and puts in its C set
        armNullRequestTimer()
    }

    /// A restarted replica: `records` are every `.persist` record it stored (see `PBFTPersistence`).
    convenience init(id: UInt64, options: PBFTOptions, lastExecuted: UInt64 = 0, lastCheckpointID: String = "",
                     restoring records: [String: [UInt8]]) {
        self.init(id: id, options: options, lastExecuted: lastExecuted, lastCheckpointID: lastCheckpointID)
        restore(records)
    }

    func primary(of view: UInt64) -> UInt64 { view % UInt64(options.n) }

    var highWatermark: UInt64 { lowWatermark + options.logSize }

    func inWindow(_ n: UInt64) -> Bool { n > lowWatermark && n <= highWatermark }

    func takeActions() -> [PBFTAction] {
        defer { outputs.removeAll(keepingCapacity: true) }
        return outputs
    }

    func broadcast(_ payload: Pbft_message.OneOf_Payload) {
        var m = Pbft_message()
        m.payload = payload
        outputs.append(.broadcast(m))
    }

    func send(_ payload: Pbft_message.OneOf_Payload, to replica: UInt64) {
        var m = Pbft_message()
        m.payload = payload
        outputs.append(.send(m, to: replica))
    }

    // MARK: inputs

    /// A client request: from this replica's client, or spread by another replica.
    func receiveRequest(_ request: Pbft_request) {
        if request.replicaID == id { ownRequests.made(request) }
        switch pool.add(request, tick: now) {
        case .duplicate, .alreadyExecuted:
            counters.droppedDuplicateRequest += 1
            return
        case .added:
            break
        }
        startTimerIfOutstanding()
        releaseHeld(for: RequestKey(request))
        if isPrimary && activeView {
            if batchTimerStart == nil { batchTimerStart = now }
            cutBatches()
        }
    }

    /// A protocol message that came on the connection of replica `sender`.
    func receive(_ message: Pbft_message, from sender: UInt64) {
        guard sender < UInt64(options.n), sender != id else {
            counters.droppedWrongSender += 1
            return
        }
        switch message.payload {
        case .prePrepare(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receivePrePrepare(m)
        case .prepare(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receivePrepare(m)
        case .commit(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receiveCommit(m)
        case .checkpoint(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receiveCheckpoint(m)
        case .viewChange(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receiveViewChange(m)
        case .newView(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receiveNewView(m)
        case .fetchRequestBatch(let m):
            guard m.replicaID == sender else { return wrongSender() }
            receiveFetchRequestBatch(m)
        case .returnRequestBatch(let m):
            receiveReturnRequestBatch(m)
        case .requestBatch, nil:
            break  // unused in v0.6
        }
    }

    private func wrongSender() { counters.droppedWrongSender += 1 }

    /// One unit of logical time.
    func tick() {
        now += 1
        if isPrimary && activeView, let start = batchTimerStart, now - start >= UInt64(options.batchTimeoutTicks) {
            cutBatches()
        }
        tickViewChangeTimers()
        announceIdleCheckpoint()
    }

    /// Idle for a request timeout after executing a sequence number that no
    /// checkpoint covers (not a multiple of K): announce a checkpoint for it.
    /// A replica that missed the last batches before traffic stopped (Fabric
    /// #1454) then sees f+1 replicas past it and catches up by state transfer;
    /// without this it would wait for the next K-th batch, forever on an idle
    /// network. It is only an announcement: it is not made stable here.
    func announceIdleCheckpoint() {
        guard lastExecuted > lastAnnounced, !lastExecutedID.isEmpty,
              now - lastExecutedTick >= UInt64(options.requestTimeoutTicks) else { return }
        lastAnnounced = lastExecuted
        var c = Pbft_checkpoint()
        c.sequenceNumber = lastExecuted
        c.replicaID = id
        c.id = lastExecutedID
        broadcast(.checkpoint(c))
    }

    /// The host finished executing `sequence` (in order; null requests included).
    /// `checkpointID` = base64 of the encoded BlockchainInfo after it.
    func executed(sequence: UInt64, checkpointID: String) {
        guard sequence == lastExecuted + 1, sequence <= lastDispatched else { return }
        lastExecuted = sequence
        lastExecutedID = checkpointID
        lastExecutedTick = now
        counters.batchesExecuted += 1
        if sequence % options.k == 0 {
            lastAnnounced = sequence
            checkpoints.recordOwn(sequence: sequence, id: checkpointID)
            persist(PBFTPersistence.checkpointKey(sequence), Array(checkpointID.utf8))
            var c = Pbft_checkpoint()
            c.sequenceNumber = sequence
            c.replicaID = id
            c.id = checkpointID
            broadcast(.checkpoint(c))
            receiveCheckpoint(c)
        }
    }

    // MARK: the primary

    /// Cuts batches while there is a full one, or the batch timer has expired,
    /// and the next sequence number is at most h + L/2.
    func cutBatches() {
        // Not while behind: a primary that has not reached h cannot vouch for what follows.
        guard isPrimary, activeView, stateTransferTarget == nil, lastDispatched >= lowWatermark else { return }
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

    // MARK: checkpoints

    func receiveCheckpoint(_ c: Pbft_checkpoint) {
        let n = c.sequenceNumber
        if n <= lowWatermark { return }  // already stable
        if n > highWatermark {
            checkpoints.recordAboveWindow(c)
            checkBehind()
            return
        }
        let matching = checkpoints.record(c)
        // Stable only once this replica holds the same checkpoint itself (the paper's rule).
        if matching >= options.quorum, checkpoints.own[n] == c.id {
            moveWatermarks(to: n, id: c.id)
        } else {
            checkWeakCertificate(c)
        }
    }

    /// Setters for the view-change extension (the properties stay read-only outside).
    func enterView(_ v: UInt64) { view = v }
    func skipExecuted(to n: UInt64) { lastExecuted = max(lastExecuted, n) }
    /// Restart: h is the stored stable checkpoint, which may be below (or above) lastExecuted.
    func restoreLowWatermark(_ n: UInt64) {
        lowWatermark = n
        seqNo = max(seqNo, n)
        checkpoints.collect(stable: n)
    }

    /// A stable checkpoint at `n`: h = n, and everything at or below it goes.
    /// `id`: the checkpoint's id, "" when unknown (recorded with it, for a restart).
    func moveWatermarks(to n: UInt64, id checkpointID: String = "") {
        guard n > lowWatermark else { return }
        lowWatermark = n
        persistStable(n, checkpointID)
        seqNo = max(seqNo, n)
        for digest in log.collect(atOrBelow: n) { persist(PBFTPersistence.batchKey(digest), nil) }
        earlyPrePrepares = earlyPrePrepares.filter { $0.key.sequence > n }
        heldPrePrepares.keep(view: view, above: n)
        for old in checkpoints.ownSorted where old.sequence < n { persist(PBFTPersistence.checkpointKey(old.sequence), nil) }
        checkpoints.collect(stable: n)
        pset = pset.filter { $0.key > n }
        qset = qset.filter { $0.key.sequence > n }
        persistPSet()
        persistQSet()
        counters.checkpointsStable += 1
        cutBatches()
    }
}
