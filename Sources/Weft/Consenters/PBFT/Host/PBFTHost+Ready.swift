extension PBFTHost {
    /// Carries out what the replica readied, and what that made it ready
    /// (an execution leads to a checkpoint), until it readies nothing more;
    /// then the round's spreads go out together.
    func performAll() {
        while true {
            let ready = replica.takeReady()
            if ready.isEmpty { break }
            perform(ready)
        }
        flushSpreads()
    }

    /// The requests gathered this round, spread in one envelope (PROTOCOL.md section 10).
    func flushSpreads() {
        guard !spreads.isEmpty else { return }
        broadcast(PBFTEnvelope.spread(spreads.take()))
    }

    /// Durable before dependent, off the fan thread: the records go to the
    /// store now (it syncs them on its own thread, grouped); the rest of the
    /// ready — messages, executions, notices — waits until they, and every
    /// record submitted before them, are durable (`recordsSettled`). The
    /// replica meanwhile goes on in memory, ahead of the disk: only what
    /// leaves the process waits. A replica that cannot store its records
    /// sends nothing, now or later.
    ///
    /// What else leaves the process or cannot be undone, and why it need not wait here:
    /// - client answers: given only for durable blocks, and a block is cut only by an
    ///   execution, which waits here for the records before it;
    /// - blocks served to others (SYNC_BLOCKS): durable blocks only, as above;
    /// - a state transfer's start and its SYNC_GET_BLOCKS: a notice, so held here; the
    ///   blocks it appends are durable ones of other replicas, checked up to the
    ///   checkpoint, and depend on no record of this one;
    /// - spreads of this validator's requests: held behind the stamp ceiling record
    ///   (`hold(.spread)`), in the same order as everything else.
    func perform(_ ready: PBFTReady) {
        guard storeFailure == nil else { return }
        var rest = ready
        if !ready.records.isEmpty {
            recordTicket = records.submit(ready.records)
            rest.records = []
        }
        if rest.isEmpty { return }
        hold(.ready(rest))
    }

    /// Carried out now when every record submitted so far is durable and nothing older waits; else held, in order.
    func hold(_ output: HeldOutput) {
        guard storeFailure == nil else { return }
        if held.isEmpty && recordTicket <= records.durableTicket {
            carryOut(output)
        } else {
            held.hold(output, untilTicket: recordTicket)
        }
    }

    /// The record store made more durable, or failed: what waited on it goes
    /// out, in order, and whatever that readies is performed.
    func recordsSettled() {
        guard !stopped, storeFailure == nil else { return }
        if let failure = records.failure { return recordsFailed(failure) }
        releaseHeld()
        performAll()
    }

    /// Every held output whose records are durable now, in order.
    func releaseHeld() {
        let durable = records.durableTicket
        while storeFailure == nil, let output = held.next(durableThrough: durable) { carryOut(output) }
    }

    /// The record store failed: the replica stops taking part and nothing held ever leaves.
    func recordsFailed(_ failure: String) {
        storeFailure = failure
        let dropped = held.dropAll()
        metrics.storeFailed(failure)
        logger.critical("pbft: cannot record its state: \(failure); this replica stops taking part until restarted (\(dropped) rounds of output held for those records are never sent)")
    }

    private func carryOut(_ output: HeldOutput) {
        if case .spread(let request) = output {
            if let full = spreads.add(request) { broadcast(PBFTEnvelope.spread(full)) }
            return
        }
        flushSpreads()   // what was gathered goes first: each link keeps the order things were made in
        switch output {
        case .spread:
            break
        case .ready(let ready):
            for outgoing in ready.messages { send(outgoing) }
            for (sequence, batch, _) in ready.committed { execute(sequence, batch) }
            for notice in ready.notices { handle(notice) }
        case .spreadTo(let request, let target):
            send(PBFTEnvelope.spread(request), to: target)
        }
    }

    private func send(_ outgoing: PBFTReady.Outgoing) {
        switch outgoing {
        case .resendRequests(let requests):
            var batch = SpreadBuffer(maxBytes: settings.options.maxBatchBytes)
            for request in requests { if let full = batch.add(request) { broadcast(PBFTEnvelope.spread(full)) } }
            broadcast(PBFTEnvelope.spread(batch.take()))
        case .broadcast(var message):
            if let signatures { message = signatures.seal(message) }
            if let lies = byzantine?.rewrite(message, replicaCount: settings.options.n, selfID: selfReplica) {
                for (target, lie) in lies { send(PBFTEnvelope.carrying(lie), to: target) }
            } else {
                broadcast(PBFTEnvelope.carrying(message))
            }
        case .send(var message, let target):
            if let signatures { message = signatures.seal(message) }
            send(PBFTEnvelope.carrying(message), to: target)
        }
    }

    private func handle(_ notice: PBFTAction) {
        switch notice {
        case .requestsOvertaken(let requests):
            for request in requests where request.replicaID == selfReplica { stampAnew(request) }
        case .stateTransfer(let sequence, let checkpointID, let replicas):
            startStateTransfer(sequence: sequence, checkpointID: checkpointID, sources: replicas)
        case .viewChangeStarted(let from, let to, let reason):
            if viewChangeStartedAt == nil { viewChangeStartedAt = clock.monotonicNanos() }
            metrics.viewChangeStarted()
            logger.notice("pbft: view change from view \(from) to \(to) (primary \(settings.primaryName(of: to))): \(reason.explanation)")
        case .newViewInstalled(let view):
            if let started = viewChangeStartedAt { metrics.timeToNewView.observe(sinceNanos: started, nowNanos: clock.monotonicNanos()) }
            viewChangeStartedAt = nil
            metrics.newViewInstalled()
            logger.notice("pbft: new view \(view) installed, primary \(settings.primaryName(of: view))")
        case .requestsCompleted:
            break   // clients are answered when their block is durable
        case .persist, .broadcast, .send, .resendRequests, .execute:
            break   // sorted into the other parts of PBFTReady
        }
    }
}
