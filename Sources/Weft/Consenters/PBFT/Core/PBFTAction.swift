/// What the state machine asks its host to do, in order.
enum PBFTAction: Sendable {
    /// To every OTHER replica.
    case broadcast(Pbft_message)
    /// To one replica.
    case send(Pbft_message, to: UInt64)
    /// Committed: execute, strictly in order, each sequence once; `batch` nil = null request (execute nothing).
    /// The host answers every one (null included) with `executed(sequence:checkpointID:)`.
    case execute(sequence: UInt64, batch: Pbft_request_batch?, digest: String)
    /// Outstanding requests that left the outstanding set because a batch holding them executed.
    case requestsCompleted([RequestKey])
    /// Outstanding requests overtaken by a later request of the same origin replica
    /// that executed: every honest replica now refuses their timestamps, so they
    /// left the outstanding set unordered. The origin replica's host spreads each
    /// again under a new timestamp; other hosts do nothing.
    case requestsOvertaken([Pbft_request])
    /// Spread these requests again to every other replica (as `batch_message.request`),
    /// as when they first came from the client: this replica's own requests, still
    /// outstanding when its request timer expired or while its view change waits.
    case resendRequests([Pbft_request])
    /// Store `value` under `key` (nil: delete the key) before sending anything that
    /// follows in the same `takeActions()`; see `PBFTPersistence`.
    case persist(key: String, value: [UInt8]?)
    /// Phase 2: this replica left `from` for view `to`.
    case viewChangeStarted(from: UInt64, to: UInt64, reason: PBFTViewChangeReason)
    /// Phase 2: the new view is active here.
    case newViewInstalled(UInt64)
    /// Phase 2: this replica is behind; bring the ledger to the state named by `checkpointID`
    /// (after `sequence`) from `replicas`, then call `stateTransferCompleted(sequence:checkpointID:requestStamps:)`.
    case stateTransfer(sequence: UInt64, checkpointID: String, replicas: [UInt64])
}
