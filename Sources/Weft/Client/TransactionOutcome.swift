/// How one submitted transaction ended, from its client's side.
public enum TransactionOutcome: Equatable, Sendable {
    /// RESPONSE SUCCESS: the validator committed it (in a durable block, for noops and PBFT).
    case committed
    /// RESPONSE FAILURE, with the validator's reason (`duplicate txid`, the size limit, ...).
    case refused(reason: String)
    /// Not waited for: the peer read it (it closed after reading all we sent).
    case submitted
    /// No answer before the deadline.
    case noAnswer(String)

    /// The status word of the JSON answers (`weft tx submit --json`, POST /transactions).
    public var status: String {
        switch self {
        case .committed: return "committed"
        case .refused: return "refused"
        case .submitted: return "submitted"
        case .noAnswer: return "timeout"
        }
    }
}
