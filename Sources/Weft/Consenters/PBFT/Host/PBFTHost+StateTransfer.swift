extension PBFTHost {
    /// SYNC_GET_BLOCKS: answered from the durable ledger.
    func serveBlocks(_ message: Message, to sender: PeerID) {
        guard let answer = ledger.answerBlockRequest(message.payload) else { return metrics.count(.undecodable) }
        try? network.unicast(byzantine?.spoil(answer) ?? answer, to: sender)
    }

    func startStateTransfer(sequence: UInt64, checkpointID: String, sources: [UInt64]) {
        switch transfers.begin(sequence: sequence, checkpointID: checkpointID, sources: sources.filter { $0 != selfReplica },
                               height: assembler.height, lastHash: assembler.lastHash) {
        case .underWay:
            return
        case .invalidCheckpoint:
            logger.error("pbft: state transfer to sequence \(sequence): the checkpoint id is not a BlockchainInfo; not started")
            replica.stateTransferFailed(sequence: sequence)
        case .refused(let why):
            logger.warning("pbft: state transfer to sequence \(sequence) refused: \(why)")
            replica.stateTransferFailed(sequence: sequence)
        case .started(let transfer):
            logger.notice("pbft: state transfer: from height \(assembler.height) to height \(transfer.targetHeight) (sequence \(sequence)), sources \(transfer.sources.map { settings.replicaNames[Int($0)] })")
            metrics.stateTransferStarted()
            continueTransfer()
        }
    }

    /// A source silent past `peer.sync.blocks.timeout` is given up for the next.
    func checkTransferTimeout() {
        guard let silent = transfers.silentSource(at: ticks) else { return }
        logger.warning("pbft: state transfer: replica \(silent.map(String.init) ?? "?") did not answer within \(settings.syncTimeoutTicks) ticks; asking the next")
        askForBlocks()
    }

    private func askForBlocks() {
        guard let (request, source) = transfers.nextRequest(at: ticks) else { return }
        send(request, to: source)
    }

    private func continueTransfer() {
        if transfers.isComplete { finishStateTransfer() } else { askForBlocks() }
    }

    func receiveBlocks(_ message: Message, from sender: PeerID) {
        guard transfers.current != nil, let from = replicaByName[sender.name],
              let answer = try? Protos_SyncBlocks(serializedBytes: message.payload) else { return }
        switch transfers.receive(answer, from: from) {
        case .ignored:
            return
        case .badSource(let why):
            logger.warning("pbft: state transfer: \(sender) sent bad blocks (\(why)); asking another replica")
            metrics.badBlocks()
            askForBlocks()
        case .progress:
            continueTransfer()
        }
    }

    /// Every block checked up to the target: append them, answer the clients
    /// whose transactions they hold, and let the replica go on from there.
    private func finishStateTransfer() {
        guard let done = transfers.takeFinished() else { return }
        let answers = clients.answers(forFetched: done.fetched.map(\.block))
        for ((block, bytes), settled) in zip(done.fetched, answers) {
            assembler.adopt(block, bytes: bytes)
            clients.hold(settled)
            ledger.append(bytes)
        }
        metrics.blocksFetched(done.fetched.count)
        let source = done.source.map { settings.replicaNames[Int($0)] } ?? "?"
        logger.notice("pbft: state transfer done: height \(assembler.height) (sequence \(done.sequence)), \(done.fetched.count) blocks from \(source)")
        durability.hold(.transferred(sequence: done.sequence, checkpointID: done.checkpointID,
                                     requestStamps: assembler.requestStamps), untilHeight: assembler.height)
        releaseDurable()
    }

    /// L4: the transfer emptied the replica's pool. The requests of this validator's clients
    /// still waiting are in no block up to the target (those were answered above, by txid).
    /// One not stale by the transferred stamps can still be ordered under its key (the other
    /// replicas most likely hold it, pre-prepared or outstanding): it goes back in the pool
    /// and out to the others again under that same key, so it is ordered once. One that is
    /// stale never will be: it is spread again under a fresh stamp, its client waiting on
    /// the new key. (Stamping every one anew, as before, had the others order most of them
    /// twice: whole blocks of duplicate txids after each transfer under load.)
    /// Called once the transfer is durable and the replica was told (`releaseDurable`).
    func resubmitDroppedByTransfer() {
        let dropped = clients.waitingRequests
        guard !dropped.isEmpty else { return }
        let stale = dropped.filter { replica.pool.isExecutedOrOlder(RequestKey($0)) }
        logger.notice("pbft: state transfer dropped \(dropped.count) outstanding requests of this validator's clients; spreading them again, \(stale.count) of them (overtaken) under new timestamps")
        for request in stale { stampAnew(request) }
        for request in dropped where !replica.pool.isExecutedOrOlder(RequestKey(request)) {
            hold(.spread(request))   // in order behind records not yet durable, as every spread
            replica.receiveRequest(request)
        }
    }
}
