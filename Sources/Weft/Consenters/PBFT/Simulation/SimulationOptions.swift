/// What `weft sim` and the suite choose for every seed of a run; everything
/// else (K, batch size, timeouts, which faults and how often, which replica
/// lies and how) is drawn from the seed (`SimScenario`).
public struct SimulationOptions: Sendable, Equatable {
    /// Replicas (f = (N-1)/3).
    public var replicas = 4
    /// Ticks (10 ms of simulated time each) with faults and client load.
    public var steps = 2_000
    /// Ticks after the faults stop: every link healed, every host restarted;
    /// by their end every correct replica must have converged and every
    /// correct origin's client been answered (the liveness bound).
    public var quietTicks = 3_000
    /// Every message delivered goes into the trace too (else only faults,
    /// crashes, answers and the hosts' notices).
    public var trace = false
    /// VIEW-CHANGEs unsigned, as in a cluster without TLS (a NEW-VIEW is then installed only once
    /// this replica received every VIEW-CHANGE it relays: liveness can be lost, PROTOCOL.md section 8).
    public var unsigned = false

    public init(replicas: Int = 4, steps: Int = 2_000, quietTicks: Int = 3_000, trace: Bool = false, unsigned: Bool = false) {
        self.replicas = replicas
        self.steps = steps
        self.quietTicks = quietTicks
        self.trace = trace
        self.unsigned = unsigned
    }

    /// The `weft sim` flags that replay a seed with these options.
    public func replayCommand(seed: UInt64) -> String {
        "weft sim --seeds \(seed)-\(seed) --replicas \(replicas) --steps \(steps) --quiet-ticks \(quietTicks)\(unsigned ? " --unsigned" : "") --trace"
    }
}
