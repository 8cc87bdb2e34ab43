/// The knobs of one PBFT replica (PROTOCOL.md section 8). Time is logical:
/// every timeout is a number of `PBFTReplica.tick()` calls.
struct PBFTOptions: Equatable, Sendable {
    /// Replicas, and the faults tolerated: N >= 3f+1.
    var n: Int
    var f: Int
    /// Checkpoint period K.
    var k: UInt64 = 10
    /// L = K * logMultiplier: sequence numbers are accepted in (h, h + L].
    var logMultiplier: UInt64 = 4
    var batchSize: Int = 500
    /// Most payload bytes in one batch (the host keeps a PRE-PREPARE within its frame limit).
    var maxBatchBytes: Int = .max
    /// The primary cuts a partial batch this long after the first unassigned request arrived.
    var batchTimeoutTicks: Int = 1
    /// An outstanding request this old starts a view change.
    var requestTimeoutTicks: Int = 2
    /// The new-view timer; doubles per failed attempt, reset once a view is stable.
    var viewChangeTimeoutTicks: Int = 2
    /// A replica in a view change resends its VIEW-CHANGE this often.
    var resendViewChangeTicks: Int = 2
    /// The primary sends a null request after this long idle (0 = off).
    var nullRequestTicks: Int = 0
    /// The host verified the signature of every VIEW-CHANGE it passes in, alone or in a
    /// NEW-VIEW's vset (TLS on). When false, a NEW-VIEW is installed only once every
    /// vset entry equals the VIEW-CHANGE this replica received from that replica itself.
    var viewChangesVerified = false
    /// A backup accepts a PRE-PREPARE only if it holds every request of the batch from
    /// its origin with the same payload (see `RequestOrigins`). On in the peer; off only
    /// for unit tests that hand a replica batches without spreading their requests.
    var authenticatedRequests = false

    init(n: Int = 4, f: Int = 1, k: UInt64 = 10, logMultiplier: UInt64 = 4, batchSize: Int = 500,
         batchTimeoutTicks: Int = 1, requestTimeoutTicks: Int = 2, viewChangeTimeoutTicks: Int = 2,
         resendViewChangeTicks: Int = 2, nullRequestTicks: Int = 0) {
        self.n = n; self.f = f; self.k = k; self.logMultiplier = logMultiplier; self.batchSize = batchSize
        self.batchTimeoutTicks = batchTimeoutTicks; self.requestTimeoutTicks = requestTimeoutTicks
        self.viewChangeTimeoutTicks = viewChangeTimeoutTicks; self.resendViewChangeTicks = resendViewChangeTicks
        self.nullRequestTicks = nullRequestTicks
    }

    /// ceil((N + f + 1) / 2): 3 for N=4, 5 for N=7. Any two quorums share a correct replica.
    var quorum: Int { (n + f + 2) / 2 }
    /// N - f: the view-changes a new primary waits for.
    var viewChangeQuorum: Int { n - f }
    var logSize: UInt64 { k * logMultiplier }
    /// The oldest outstanding request waiting this long at the head of the queue while
    /// other batches execute starts a view change (`watchOldestRequest`): 8 request timeouts.
    var starvationTicks: UInt64 { UInt64(requestTimeoutTicks) * Self.starvationFactor }
    static let starvationFactor: UInt64 = 8

    /// Throws naming the first bad knob.
    static func validate(_ o: PBFTOptions) throws {
        func bad(_ text: String) -> PBFTOptionsError { PBFTOptionsError(text: text) }
        if o.f < 0 { throw bad("pbft.general.f must be >= 0 (got \(o.f))") }
        if o.n < 3 * o.f + 1 { throw bad("pbft.general.N must be >= 3f+1 = \(3 * o.f + 1) (got N=\(o.n), f=\(o.f))") }
        if o.k == 0 { throw bad("pbft.general.K must be > 0") }
        if o.logMultiplier < 2 { throw bad("pbft.general.logmultiplier must be >= 2 (got \(o.logMultiplier))") }
        if o.batchSize < 1 { throw bad("pbft.general.batchsize must be >= 1 (got \(o.batchSize))") }
        if o.batchTimeoutTicks < 1 { throw bad("pbft.general.timeout.batch must be > 0") }
        if o.requestTimeoutTicks < 1 { throw bad("pbft.general.timeout.request must be > 0") }
        if o.viewChangeTimeoutTicks < 1 { throw bad("pbft.general.timeout.viewchange must be > 0") }
        if o.resendViewChangeTicks < 1 { throw bad("pbft.general.timeout.resendviewchange must be > 0") }
        if o.nullRequestTicks < 0 { throw bad("pbft.general.timeout.nullrequest must be >= 0") }
    }

    func validate() throws { try Self.validate(self) }
}
