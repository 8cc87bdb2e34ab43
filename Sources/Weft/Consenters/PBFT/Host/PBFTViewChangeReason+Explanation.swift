extension PBFTViewChangeReason {
    /// Why, for the operator's log line.
    var explanation: String {
        switch self {
        case .requestTimeout: return "a request waited longer than pbft.general.timeout.request"
        case .conflictingPrePrepare: return "the primary sent two different batches for one sequence number"
        case .joinedOthers: return "f+1 replicas asked for a higher view"
        case .newViewTimeout: return "no NEW-VIEW within pbft.general.timeout.viewchange"
        case .badNewView: return "the NEW-VIEW did not match the view-changes it was built from"
        case .forgedRequest: return "the primary proposed a request its origin replica did not send (another payload under its key, or a key already executed)"
        case .requestStarved: return "the oldest outstanding request waited longer than \(PBFTOptions.starvationFactor) × pbft.general.timeout.request while other requests were ordered"
        case .primaryIdle: return "the primary sent nothing within pbft.general.timeout.nullrequest"
        }
    }
}
