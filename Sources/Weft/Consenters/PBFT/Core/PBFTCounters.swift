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
