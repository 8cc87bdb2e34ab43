extension PBFTViewChangeReason {
    /// Why, for the operator's log line.
    var explanation: String {
        switch self {
        case .requestTimeout: return "a request waited longer than pbft.general.timeout.request"
        case .conflictingPrePrepare: return "the primary sent two different batches for one sequence number"
        case .joinedOthers: return "f+1 replicas asked for a higher view"
        case .newViewTimeout: return "no NEW-VIEW within pbft.general.timeout.viewchange"
        case .badNewView: return "the NEW-VIEW did not match the view-changes it was built from"
        case .primaryIdle: return "the primary sent nothing within pbft.general.timeout.nullrequest"
        }
    }
}
