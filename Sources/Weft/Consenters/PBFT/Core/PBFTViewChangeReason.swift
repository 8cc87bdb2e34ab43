/// Why a replica started a view change.
enum PBFTViewChangeReason: String, Sendable, Equatable {
    case requestTimeout, conflictingPrePrepare, joinedOthers, newViewTimeout, badNewView, primaryIdle, forgedRequest, requestStarved
}
