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
    /// The new-view timeout of the next attempt (doubles per failed attempt until a batch executes, capped).
    var newViewTimeout: Int
    /// The primary's null-request timer / a backup's watch on the primary.
    var nullRequestDeadline: UInt64?
    /// A state transfer asked of the host and not yet completed, and when it was asked;
    /// `movesH`: h moves to it when it completes (not for a NEW-VIEW's unstable start).
    var stateTransferTarget: (sequence: UInt64, id: String, movesH: Bool)?
    var stateTransferAskedTick: UInt64 = 0
    /// The new-view timer of the current view change has started (at f+1 view-changes).
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
    /// The last executed sequence number whose announcement is recorded (`PBFTPersistence.executedKey`).
    var executedRecorded: UInt64 = 0
    /// replica -> the highest view of a normal-case message it sent us, when above ours.
    var viewEvidence: [UInt64: UInt64] = [:]
    /// The checkpoint the installed view started from (its NEW-VIEW's), and whether this
    /// replica announced it. h stays below it until it is stable (`startFrom`); the view's
    /// pre-prepares are above it.
    var viewStart: (view: UInt64, sequence: UInt64, id: String) = (0, 0, "")
    var viewStartAnnounced = false

    struct QKey: Hashable, Comparable {
        let sequence: UInt64
        let digest: String
        static func < (a: QKey, b: QKey) -> Bool { (a.sequence, a.digest) < (b.sequence, b.digest) }
    }

    /// - Parameters:
    ///   - lastExecuted: the sequence number of the last batch in the ledger (restart).
    ///   - lastCheckpointID: the checkpoint id of the ledger at `lastExecuted`, if known.
    ///   - requestStamps: the request stamps of the ledger's last block (`RequestStamps`).
    init(id: UInt64, options: PBFTOptions, lastExecuted: UInt64 = 0, lastCheckpointID: String = "",
         requestStamps: RequestStamps = RequestStamps()) {
        self.id = id
        pool = RequestPool(stamps: requestStamps)
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
                     requestStamps: RequestStamps = RequestStamps(), restoring records: [String: [UInt8]]) {
        self.init(id: id, options: options, lastExecuted: lastExecuted, lastCheckpointID: lastCheckpointID,
                  requestStamps: requestStamps)
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
        case .anotherPayload:
            releaseHeld(for: RequestKey(request))   // a batch with this payload waited for it
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
        recordAnnouncedExecution()
        broadcast(.checkpoint(checkpoint(lastExecuted, lastExecutedID)))
    }

    /// This replica's CHECKPOINT for `sequence` with `checkpointID`.
    func checkpoint(_ sequence: UInt64, _ checkpointID: String) -> Pbft_checkpoint {
        var c = Pbft_checkpoint()
        c.sequenceNumber = sequence
        c.replicaID = id
        c.id = checkpointID
        return c
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
            let c = checkpoint(sequence, checkpointID)
            broadcast(.checkpoint(c))
            receiveCheckpoint(c)
        }
        announceViewStart()
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
        for old in checkpoints.announced(below: n) { persist(PBFTPersistence.announcedKey(old), nil) }
        checkpoints.collect(stable: n)
        pset = pset.filter { $0.key > n }
        qset = qset.filter { $0.key.sequence > n }
        persistPSet()
        persistQSet()
        counters.checkpointsStable += 1
        cutBatches()
    }
}
