/// The ways the simulated byzantine replica lies (at most f of them lie; the
/// seed picks which replica and which lies). Each is made on its outgoing
/// messages in the simulated network, after its honest host decided them
/// (but `censor`, made on its incoming ones).
enum SimLie: String, CaseIterable, Sendable {
    /// As primary: some requests of other replicas in its batches get a
    /// payload of its own under the same (replica, timestamp) key, and a
    /// request under each other replica's id with the largest timestamp is added.
    case forgeRequests = "forge-requests"
    /// As primary: each backup gets a different batch for the same sequence number.
    case equivocate
    /// Its CHECKPOINTs name a state that never was (a height ahead, a random hash).
    case falseCheckpoints = "false-checkpoints"
    /// Its CHECKPOINTs name the state of an earlier checkpoint it announced.
    case staleCheckpoints = "stale-checkpoints"
    /// Its SYNC_BLOCKS answers are spoiled (blocks that do not link, or miss the target's hash).
    case lyingTransfer = "lying-transfer"
    /// It sends old VIEW-CHANGEs again, its own and ones it received, now and then.
    case replayViewChanges = "replay-view-changes"
    /// As primary: one replica's requests never go into its batches (it drops their spreads on the
    /// way in, so its own log still agrees with what it sends: `SimByzantine.ignores`).
    case censor
}
