import Dispatch
import Synchronization

/// The real `PBFTRecordStore`: a `PBFTStore` written on a serial queue of its
/// own, so the consensus fan never waits for an fdatasync. The fan hands a
/// round's records over and goes on taking messages; the writer encodes and
/// appends them, then fdatasyncs — group commit: every submission made while
/// one fdatasync runs is taken by the next one — publishes the last ticket it
/// covered as durable and calls `onDurable` (the consenter bounces it onto
/// the fan queue, as it does the ledger's).
final class RecordWriter: PBFTRecordStore, @unchecked Sendable {
    private let store: PBFTStore
    private let queue = DispatchQueue(label: "weft.pbft.records", qos: .userInitiated)
    private let durable = Atomic<UInt64>(0)
    private let failureText = Mutex<String?>(nil)
    let syncCount = Atomic<Int>(0)
    let syncedBytes = Atomic<Int>(0)
    /// One write + fdatasync of the records log.
    let fsyncDuration = MetricHistogram(name: "weft_pbft_records_fsync_duration_seconds",
                                        help: "Write and fdatasync of the PBFT records log (one per group of rounds).")
    /// Called on the writer's queue after `durableTicket` moved or `failure` was set.
    var onDurable: @Sendable () -> Void = {}

    /// Submitter state (the fan).
    private var submitted: UInt64 = 0
    // Writer-queue state.
    private var appliedThrough: UInt64 = 0
    private var syncScheduled = false
    private var failed = false

    /// `store` is loaded already; from now on only this writer's queue touches it.
    init(store: PBFTStore) { self.store = store }

    var durableTicket: UInt64 { durable.load(ordering: .acquiring) }
    var failure: String? { failureText.withLock { $0 } }

    func submit(_ records: [(key: String, value: [UInt8]?)]) -> UInt64 {
        submitted += 1
        let ticket = submitted
        queue.async { [self] in apply(records, ticket: ticket) }
        return ticket
    }

    /// Into the store's buffer; the sync is queued behind every submission already waiting.
    private func apply(_ records: [(key: String, value: [UInt8]?)], ticket: UInt64) {
        guard !failed else { return }
        do {
            for (key, value) in records { try store.apply(key: key, value: value) }
        } catch {
            return fail(error)
        }
        appliedThrough = ticket
        if !syncScheduled {
            syncScheduled = true
            queue.async { [self] in syncNow() }
        }
    }

    private func syncNow() {
        syncScheduled = false
        guard !failed, appliedThrough > durable.load(ordering: .relaxed) else { return }
        let started = MonotonicClock.now()
        let bytesBefore = store.syncedBytes
        do { try store.sync() } catch { return fail(error) }
        fsyncDuration.observe(sinceNanos: started, nowNanos: MonotonicClock.now())
        syncCount.add(1, ordering: .relaxed)
        syncedBytes.add(store.syncedBytes - bytesBefore, ordering: .relaxed)
        durable.store(appliedThrough, ordering: .releasing)
        onDurable()
    }

    private func fail(_ error: Error) {
        failed = true
        failureText.withLock { $0 = "\(error)" }
        onDurable()
    }

    func finish() { queue.sync { syncNow() } }

    /// The writer's metrics, for the consenter's `writeMetrics` (any thread).
    func writeMetrics(to text: inout String) {
        var out = PrometheusText()
        out.counter("weft_pbft_record_syncs_total", "fdatasyncs of the PBFT records log (each covers every round handed over since the last).",
                    syncCount.load(ordering: .relaxed))
        out.counter("weft_pbft_record_bytes_total", "Bytes of PBFT records made durable (with their headers).",
                    syncedBytes.load(ordering: .relaxed))
        fsyncDuration.write(to: &out)
        text += out.text
    }
}
