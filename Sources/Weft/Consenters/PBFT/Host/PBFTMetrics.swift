import Synchronization

/// What /metrics and /healthz say about PBFT. The replica lives on the fan's
/// queue; the reactor reads this snapshot, refreshed every few ticks, so the
/// scrape never touches the replica itself.
final class PBFTMetrics: Sendable {
    /// Drops the adapter decides before the replica sees a message.
    enum AdapterDrop: String, CaseIterable {
        case notAReplica = "not_a_replica"
        case undecodable
        case wrongSender = "wrong_sender"
        /// TLS on: a VIEW-CHANGE unsigned or not signed by the replica it names, or a NEW-VIEW relaying one.
        case forged
        /// A client transaction answered FAILURE: `pbft.general.maxoutstanding` of this validator's were outstanding.
        case overloaded
    }

    struct Snapshot {
        var view: UInt64 = 0
        var executed: UInt64 = 0
        var lowWatermark: UInt64 = 0
        var outstanding = 0
        var connectedReplicas = 0
        var counters = PBFTCounters()
        var adapterDrops: [AdapterDrop: Int] = [:]
        var transactionsExecuted = 0
        var stateTransfers = 0
        var blocksFetched = 0
        var badBlocks = 0
        var signaturesVerified = 0
        var viewChangesStarted = 0
        var newViewsInstalled = 0
        var refreshed = false
        var storeFailure: String?
    }

    private let snapshot = Mutex(Snapshot())
    /// Request received from a client here → its batch executed here.
    let commitLatency = MetricHistogram(name: "weft_pbft_commit_latency_seconds",
                                        help: "PBFT: from a client's transaction received here to its batch executed.")
    /// This replica left a working view → a new view installed here.
    let timeToNewView = MetricHistogram(name: "weft_pbft_time_to_new_view_seconds",
                                        help: "PBFT: from this replica's first VIEW-CHANGE to a new view installed here.")

    func update(from replica: PBFTReplica, outstanding: Int, connectedReplicas: Int? = nil) {
        let view = replica.view, executed = replica.lastExecuted, low = replica.lowWatermark, counters = replica.counters
        snapshot.withLock { s in
            s.view = view
            s.executed = executed
            s.lowWatermark = low
            s.outstanding = outstanding
            s.counters = counters
            if let connectedReplicas { s.connectedReplicas = connectedReplicas; s.refreshed = true }
        }
    }

    func count(_ drop: AdapterDrop) { snapshot.withLock { $0.adapterDrops[drop, default: 0] += 1 } }

    func stateTransferStarted() { snapshot.withLock { $0.stateTransfers += 1 } }
    func blocksFetched(_ count: Int) { snapshot.withLock { $0.blocksFetched += count } }
    func storeFailed(_ reason: String) { snapshot.withLock { $0.storeFailure = reason } }
    func signaturesVerified(_ total: Int) { snapshot.withLock { $0.signaturesVerified = total } }
    func badBlocks() { snapshot.withLock { $0.badBlocks += 1 } }
    func viewChangeStarted() { snapshot.withLock { $0.viewChangesStarted += 1 } }
    func newViewInstalled() { snapshot.withLock { $0.newViewsInstalled += 1 } }

    func executed(transactions: Int) { snapshot.withLock { $0.transactionsExecuted += transactions } }

    func failedHealthChecks(quorum: Int) -> [String] {
        let s = snapshot.withLock { $0 }
        var failed: [String] = []
        if let reason = s.storeFailure { failed.append("pbft: cannot record its state, stopped taking part: \(reason)") }
        if s.refreshed, s.connectedReplicas < quorum {
            failed.append("pbft: \(s.connectedReplicas) of the \(quorum) replicas a quorum needs are connected (this one included)")
        }
        return failed
    }

    func write(to text: inout String) {
        let s = snapshot.withLock { $0 }
        var out = PrometheusText()
        out.gauge("weft_pbft_view", "PBFT: the current view.", Int(s.view))
        out.gauge("weft_pbft_sequence_executed", "PBFT: the last sequence number executed.", Int(s.executed))
        out.gauge("weft_pbft_low_watermark", "PBFT: the last stable checkpoint (h).", Int(s.lowWatermark))
        out.gauge("weft_pbft_requests_outstanding", "PBFT: requests received and not yet executed.", s.outstanding)
        out.gauge("weft_pbft_replicas_connected", "PBFT: replicas connected, this one included.", s.connectedReplicas)
        out.counter("weft_pbft_batches_proposed_total", "PBFT: batches this replica proposed as primary.", s.counters.batchesProposed)
        out.counter("weft_pbft_batches_executed_total", "PBFT: batches executed.", s.counters.batchesExecuted)
        out.counter("weft_pbft_transactions_executed_total", "PBFT: transactions written to the ledger.", s.transactionsExecuted)
        out.counter("weft_pbft_checkpoints_stable_total", "PBFT: checkpoints that became stable.", s.counters.checkpointsStable)
        out.counter("weft_pbft_view_changes_started_total", "PBFT: view changes this replica took part in (each higher view it asked for).", s.viewChangesStarted)
        out.counter("weft_pbft_new_views_installed_total", "PBFT: new views installed.", s.newViewsInstalled)
        out.counter("weft_pbft_new_views_refused_total", "PBFT: NEW-VIEW messages refused (xset not matching the view-changes).", s.counters.newViewsRefused)
        out.counter("weft_pbft_state_transfers_total", "PBFT: catch-ups by state transfer started.", s.stateTransfers)
        out.counter("weft_pbft_blocks_fetched_total", "PBFT: blocks fetched by state transfer.", s.blocksFetched)
        out.counter("weft_pbft_bad_block_answers_total", "PBFT: SYNC_BLOCKS answers refused (a block that does not link or misses the target).", s.badBlocks)
        out.counter("weft_pbft_view_change_signatures_verified_total", "PBFT with TLS: VIEW-CHANGE signatures checked good (received directly or relayed in a NEW-VIEW).", s.signaturesVerified)
        let c = s.counters
        var drops: [(labels: String, value: Int)] = [
            ("cause=\"wrong_sender\"", c.droppedWrongSender + (s.adapterDrops[.wrongSender] ?? 0)),
            ("cause=\"outside_watermarks\"", c.droppedOutsideWatermarks),
            ("cause=\"bad_digest\"", c.droppedBadDigest),
            ("cause=\"wrong_view\"", c.droppedWrongView),
            ("cause=\"not_from_primary\"", c.droppedNotFromPrimary),
            ("cause=\"conflicting_digest\"", c.droppedConflictingDigest),
            ("cause=\"duplicate_request\"", c.droppedDuplicateRequest),
            ("cause=\"overtaken_request\"", c.overtakenRequests),
            ("cause=\"forged_request\"", c.droppedForgedRequests),
        ]
        drops.append(("cause=\"not_a_replica\"", s.adapterDrops[.notAReplica] ?? 0))
        drops.append(("cause=\"undecodable\"", s.adapterDrops[.undecodable] ?? 0))
        drops.append(("cause=\"forged\"", s.adapterDrops[.forged] ?? 0))
        drops.append(("cause=\"overloaded\"", s.adapterDrops[.overloaded] ?? 0))
        out.metric("weft_pbft_messages_dropped_total", "counter", "PBFT: messages dropped, by cause.", drops)
        text += out.text
        commitLatency.write(to: &text)
        timeToNewView.write(to: &text)
    }
}
