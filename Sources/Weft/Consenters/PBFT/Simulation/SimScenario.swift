/// Everything about one seed's run that the seed decides: the PBFT knobs,
/// latencies, how often faults and client requests come, and whether one
/// replica is byzantine (and how it lies). Printed at the head of a trace.
struct SimScenario: CustomStringConvertible {
    let options: PBFTOptions
    let maxLatencyMillis: Int
    let maxFsyncMillis: Int
    /// Per tick: the chance that a new fault starts, and that a client sends a transaction.
    let faultRate: Double
    let requestRate: Double
    let byzantineID: Int?
    let lies: [SimLie]
    /// The replica whose requests a censoring primary leaves out.
    let censored: Int
    /// A disk may be wiped (never with a byzantine replica: both count towards f).
    let allowWipe: Bool
    /// Power losses (unsynced writes lost) are in the fault model.
    let powerLoss: Bool
    let syncTimeoutTicks: Int
    let blocksPerRequest: Int

    /// `signed`: VIEW-CHANGEs are signed and checked, as in a cluster with TLS (`SimViewChangeKeys`).
    init(replicas: Int, signed: Bool, seed: UInt64, rng: inout SimRandom) {
        let f = (replicas - 1) / 3
        var o = PBFTOptions(n: replicas, f: f, k: UInt64(rng.between(2, 10)), logMultiplier: UInt64(rng.between(2, 4)),
                            batchSize: rng.between(1, 10), batchTimeoutTicks: rng.between(1, 5),
                            requestTimeoutTicks: rng.between(20, 80), viewChangeTimeoutTicks: rng.between(20, 80),
                            resendViewChangeTicks: rng.between(10, 30), nullRequestTicks: rng.chance(0.3) ? rng.between(50, 200) : 0)
        // As a TLS cluster (unless `weft sim --unsigned`): signed VIEW-CHANGEs, so a NEW-VIEW's relayed ones are checked
        // by their signatures; without, only against the VIEW-CHANGEs received (PROTOCOL.md section 8).
        o.viewChangesVerified = signed
        o.authenticatedRequests = true  // its links are authenticated (each message's sender is the real one), as TLS's
        options = o
        maxLatencyMillis = rng.between(1, 8)
        maxFsyncMillis = rng.between(1, 40)
        faultRate = [0.0, 0.005, 0.02, 0.05][rng.below(4)]
        requestRate = [0.05, 0.2, 0.5][rng.below(3)]
        if f > 0 && rng.chance(0.4) {
            byzantineID = rng.chance(0.5) ? 0 : rng.between(1, replicas - 1)   // often the first primary
            let shuffled = SimLie.allCases.filter { _ in rng.chance(0.4) }
            // A third of the byzantine replicas that do not forge only censor (drawn apart, so the seeds' other draws
            // stay): lying otherwise gets a primary replaced before its censorship can show (L6).
            var aim = SimRandom(seed: seed ^ 0xCE_2502)
            let drawn = shuffled.isEmpty ? [rng.pick(SimLie.allCases)] : shuffled
            lies = !drawn.contains(.forgeRequests) && aim.chance(1.0 / 3) ? [.censor] : drawn
        } else {
            byzantineID = nil
            lies = []
        }
        var censored = rng.below(replicas)
        if censored == byzantineID { censored = (censored + 1) % replicas }
        self.censored = censored
        allowWipe = byzantineID == nil && rng.chance(0.5)
        powerLoss = rng.chance(0.5)
        syncTimeoutTicks = rng.between(20, 100)
        blocksPerRequest = rng.between(1, 20)
    }

    var description: String {
        let o = options
        let liar = byzantineID.map { "replica \($0) byzantine (\(lies.map(\.rawValue).joined(separator: ", "))\(lies.contains(.censor) ? ", censors \(censored)" : ""))" } ?? "no byzantine replica"
        return "N=\(o.n) \(o.viewChangesVerified ? "signed" : "unsigned") f=\(o.f) K=\(o.k) L=\(o.logSize) batch=\(o.batchSize) timeouts(ticks): batch \(o.batchTimeoutTicks) request \(o.requestTimeoutTicks) view-change \(o.viewChangeTimeoutTicks) resend \(o.resendViewChangeTicks) null \(o.nullRequestTicks); latency <= \(maxLatencyMillis) ms, fsync <= \(maxFsyncMillis) ms; faults \(faultRate)/tick, requests \(requestRate)/tick; \(liar); wipe \(allowWipe ? "on" : "off"), power loss \(powerLoss ? "on" : "off"); sync timeout \(syncTimeoutTicks) ticks, \(blocksPerRequest) blocks a request"
    }
}
