/// Something the host would send or do that depends on records not yet
/// durable: it waits in `HeldOutputs` until they are.
enum HeldOutput {
    /// A readied round without its records (already submitted): its messages,
    /// executions and notices, carried out in that order.
    case ready(PBFTReady)
    /// A request of this validator's client, spread to every other replica
    /// (its stamp may rest on a ceiling record not yet durable).
    case spread(Pbft_request)
    /// The same to one replica (the resend to a replica that reconnected).
    case spreadTo(Pbft_request, replica: UInt64)
}
