/// What the host is told once, at start: who the replicas are and its limits.
struct PBFTHostSettings {
    let options: PBFTOptions
    /// The replica names in id order (`pbft.general.validators`, or vp0…vpN-1).
    let replicaNames: [String]
    let selfReplica: UInt64
    /// A client transaction larger than this is refused (FAILURE), not ordered.
    let maxTransactionBytes: Int
    /// SYNC_GET_BLOCKS: blocks per request, and ticks before a silent source is given up.
    let blocksPerRequest: Int
    let syncTimeoutTicks: Int
    /// At most this many of this validator's clients' transactions outstanding
    /// (`pbft.general.maxoutstanding`); one more is answered FAILURE at once.
    var maxOutstanding = 20_000

    /// The replica name of the primary of `view`.
    func primaryName(of view: UInt64) -> String { replicaNames[Int(view % UInt64(options.n))] }
}
