/// The properties the checker holds every run to.
public enum SimProperty: String, CaseIterable, Sendable {
    /// The same block bytes at every height on every correct replica.
    case agreement
    /// Every transaction in a correct replica's block was sent by a client, with that payload.
    case validity
    /// SUCCESS only for the client's own txid, with its own payload, in a durable block; one answer per client.
    case clientIntegrity = "client integrity"
    /// Nothing acknowledged is lost, whatever crashed (the longest correct chain still holds it).
    case durability
    /// After the faults stop, every correct replica converges and every correct origin's client is answered.
    case liveness
    /// While clients keep sending after the faults stop, every request to a correct validator is
    /// answered within `SimChecker.answerBoundTicks` of its submission, whatever the primary does (L6).
    case answerBound = "answer bound"
    /// A correct replica never sends two different PRE-PREPAREs/PREPAREs/COMMITs for one (view, sequence),
    /// two NEW-VIEWs for one view, or two checkpoint ids for one sequence.
    case nonEquivocation = "non-equivocation"
    /// A correct replica's CHECKPOINT names the chain's real state after that sequence.
    case checkpointHonesty = "checkpoint honesty"
}
