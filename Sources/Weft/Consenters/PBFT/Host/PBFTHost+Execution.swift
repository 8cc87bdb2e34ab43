extension PBFTHost {
    /// A committed batch becomes the next block (a null request, none).
    /// The replica hears of it once the block is durable (`releaseDurable`).
    func execute(_ sequence: UInt64, _ batch: Pbft_request_batch?) {
        guard let batch else {
            durability.hold(.executed(sequence: sequence, checkpointID: assembler.checkpointID), untilHeight: assembler.height)
            releaseDurable()
            return
        }
        let block = assembler.assemble(sequence: sequence, batch: batch)
        let now = clock.monotonicNanos()
        let answers = clients.answers(for: block, batch: batch) { metrics.commitLatency.observe(sinceNanos: $0.receivedAt, nowNanos: now) }
        if !block.duplicates.isEmpty {
            logger.notice("pbft: sequence \(sequence): \(block.duplicates.count) transactions skipped, their txids already in the chain")
        }
        resubmitStale(block.stale)
        clients.hold(answers)
        ledger.append(block.bytes)
        metrics.executed(transactions: block.included.count)
        durability.hold(.executed(sequence: sequence, checkpointID: assembler.checkpointID), untilHeight: assembler.height)
    }

    /// Stale requests a batch carried were skipped (`RequestStamps`): one of this validator's
    /// whose client still waits on it (its spread reached the primary after a later one, or
    /// was resent) is spread again under a fresh stamp; it was not executed anywhere.
    private func resubmitStale(_ stale: [Pbft_request]) {
        for request in stale where request.replicaID == selfReplica && clients.isWaiting(on: RequestKey(request)) {
            stampAnew(request)
        }
    }

    /// Tells the replica of every execution and transfer whose blocks are durable now.
    func releaseDurable() {
        for step in durability.release(durableHeight: ledger.durableHeight) {
            switch step {
            case .executed(let sequence, let checkpointID):
                replica.executed(sequence: sequence, checkpointID: checkpointID)
            case .transferred(let sequence, let checkpointID, let stamps):
                replica.stateTransferCompleted(sequence: sequence, checkpointID: checkpointID, requestStamps: stamps)
                resubmitDroppedByTransfer()
            }
        }
    }

    /// The ledger reported outcomes: answers the clients of those blocks (in
    /// append order), tells the replica what is durable now, and carries out
    /// what that readies (a checkpoint).
    func ledgerSettled() {
        answerDurable()
        releaseDurable()
        performAll()
    }

    /// Answers the clients of every block whose outcome the ledger reported (in append order).
    func answerDurable() {
        for (answers, result) in clients.release(ledger.takeOutcomes()) {
            for held in answers {
                switch result {
                case .success where held.displaced:
                    answer(held.client, .failure, "\(held.txid): another transaction was ordered under its request key; it was not ordered (resubmit it)")
                case .success where held.duplicate:
                    answer(held.client, .failure, "\(held.txid): duplicate txid (already in the chain)")
                case .success:
                    answer(held.client, .success, held.txid)
                case .failure(let error):
                    if !ledgerFailureLogged {
                        ledgerFailureLogged = true
                        logger.critical("pbft: ledger write failed: \(error); this validator acknowledges nothing more (its clients are answered FAILURE) until it is restarted once the cause is fixed; the restart truncates a torn tail and catches up by state transfer")
                    }
                    answer(held.client, .failure, "\(held.txid): ledger write failed: \(error)")
                }
            }
        }
    }
}
