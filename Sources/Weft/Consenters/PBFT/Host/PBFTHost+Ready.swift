extension PBFTHost {
    /// Carries out what the replica readied, and what that made it ready
    /// (an execution leads to a checkpoint), until it readies nothing more.
    func performAll() {
        while true {
            let ready = replica.takeReady()
            if ready.isEmpty { return }
            perform(ready)
        }
    }

    /// Records first, durable with one sync: a replica that cannot store them
    /// sends nothing, now or later.
    func perform(_ ready: PBFTReady) {
        guard storeFailure == nil else { return }
        do {
            for (key, value) in ready.records { try records.apply(key: key, value: value) }
            if !ready.records.isEmpty { try records.sync() }
        } catch {
            storeFailure = "\(error)"
            metrics.storeFailed("\(error)")
            logger.critical("pbft: cannot record its state: \(error); this replica stops taking part until restarted")
            return
        }
        for outgoing in ready.messages { send(outgoing) }
        for (sequence, batch, _) in ready.committed { execute(sequence, batch) }
        for notice in ready.notices { handle(notice) }
    }

    private func send(_ outgoing: PBFTReady.Outgoing) {
        switch outgoing {
        case .resendRequests(let requests):
            for request in requests { broadcast(PBFTEnvelope.spread(request)) }
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
