/// A request's identity: the replica that received it from its client, and the timestamp it gave it.
struct RequestKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    let replica: UInt64
    let seconds: Int64
    let nanos: Int32

    init(replica: UInt64, seconds: Int64, nanos: Int32) {
        self.replica = replica; self.seconds = seconds; self.nanos = nanos
    }

    init(_ request: Pbft_request) {
        self.init(replica: request.replicaID, seconds: request.timestamp.seconds, nanos: request.timestamp.nanos)
    }

    static func < (a: RequestKey, b: RequestKey) -> Bool {
        (a.replica, a.seconds, a.nanos) < (b.replica, b.seconds, b.nanos)
    }

    /// Same replica: is this request's timestamp at or before `other`'s?
    func timestampNotAfter(_ seconds: Int64, _ nanos: Int32) -> Bool { (self.seconds, self.nanos) <= (seconds, nanos) }

    var description: String { "\(replica)@\(seconds).\(nanos)" }
}

/// Why a replica started a view change.
enum PBFTViewChangeReason: String, Sendable, Equatable {
    case requestTimeout, conflictingPrePrepare, joinedOthers, newViewTimeout, badNewView, primaryIdle, forgedRequest, requestStarved
}

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
    /// (after `sequence`) from `replicas`, then call `stateTransferCompleted(sequence:checkpointID:)`.
    case stateTransfer(sequence: UInt64, checkpointID: String, replicas: [UInt64])
}

/// Dropped-message causes and progress, for /metrics.
struct PBFTCounters: Equatable, Sendable {
    var droppedWrongSender = 0
    var droppedOutsideWatermarks = 0
    var droppedBadDigest = 0
    var droppedWrongView = 0
    var droppedNotFromPrimary = 0
    var droppedConflictingDigest = 0
    var droppedDuplicateRequest = 0
    /// Outstanding requests dropped because a later one of their replica executed first.
    var overtakenRequests = 0
    /// PRE-PREPAREs refused: a request in the batch is not the one its origin sent.
    var droppedForgedRequests = 0
    /// PRE-PREPAREs held until the requests of their batch arrive from their origins.
    var heldPrePrepares = 0
    var batchesProposed = 0
    var batchesExecuted = 0
    var checkpointsStable = 0
    /// Phase 2.
    var viewChanges = 0
    var newViewsRefused = 0
}
