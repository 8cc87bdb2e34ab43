import Dispatch
import Foundation
import Logging
import Synchronization

/// Appends blocks on a serial queue of its own: write, then fsync per block,
/// or once per group-commit window for all blocks written in it; once synced,
/// the blocks go into the block and txid indexes (so readers see only durable
/// blocks). Outcomes are collected in `outcomes` and announced through `onDurable`.
final class LedgerWriter: @unchecked Sendable {
    typealias Outcome = (txids: [String], result: Result<Void, Error>)
    private let file: BlockFile
    private let indexes: LedgerIndexWriter
    private let queue = DispatchQueue(label: "weft.ledger", qos: .userInitiated)
    private let groupCommitNanos: UInt64
    let durableHeight: Atomic<UInt64>
    /// What went wrong, for /healthz (set once, on the ledger queue).
    let failureText = Mutex<String?>(nil)
    let writtenBytes = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    /// One fdatasync of the block file.
    let fsyncDuration = MetricHistogram(name: "weft_ledger_fsync_duration_seconds", help: "fdatasync of the block file.")
    /// A block handed to the ledger until it is durable (write, group-commit wait, fsync).
    let commitDuration = MetricHistogram(name: "weft_block_commit_duration_seconds",
                                         help: "From a block being cut to its being fsynced (write, group-commit window, fsync).")
    private let outcomes = Mutex<[Outcome]>([])
    /// `ledger: write failed: …` once a write or an fsync failed (any thread).
    var failedHealthChecks: [String] { failureText.withLock { $0 }.map { ["ledger: \($0)"] } ?? [] }

    /// The ledger's metrics, for a consenter's `writeMetrics` (any thread).
    func writeMetrics(to text: inout String) {
        var out = PrometheusText()
        out.counter("weft_ledger_written_bytes_total", "Bytes appended to the block file (records with their headers).",
                    writtenBytes.load(ordering: .relaxed))
        out.counter("weft_ledger_write_failures_total", "Block writes or fsyncs that failed.", failures.load(ordering: .relaxed))
        fsyncDuration.write(to: &out)
        commitDuration.write(to: &out)
        text += out.text
    }

    /// Called on the ledger queue after outcomes were added.
    var onDurable: @Sendable () -> Void = {}

    // Ledger-queue state.
    private var writtenHeight: UInt64
    private var unsynced: [(txids: [String], cutAt: UInt64, indexed: LedgerIndexWriter.Written)] = []
    private var syncScheduled = false
    private var failure: Error?

    init(file: BlockFile, indexes: LedgerIndexWriter, groupCommitNanos: UInt64) {
        self.file = file
        self.indexes = indexes
        let height = indexes.height
        writtenHeight = height
        durableHeight = Atomic(height)
        self.groupCommitNanos = groupCommitNanos
    }

    func append(_ bytes: [UInt8], txids: [String]) {
        let cutAt = MonotonicClock.now()
        queue.async { [self] in
            if let failure { report([(txids, .failure(failure))]); return }
            do {
                let entry = try file.append(bytes)
                writtenBytes.add(bytes.count + BlockFile.recordHeader, ordering: .relaxed)
                writtenHeight += 1
                let indexed = BlockTxids.of(bytes) ?? []
                unsynced.append((txids, cutAt, LedgerIndexWriter.Written(entry: entry, txids: indexed)))
                if groupCommitNanos == 0 {
                    syncNow()
                } else if !syncScheduled {
                    syncScheduled = true
                    queue.asyncAfter(deadline: .now() + .nanoseconds(Int(groupCommitNanos))) { [self] in syncNow() }
                }
            } catch {
                fail(error)
                report([(txids, .failure(error))])
            }
        }
    }

    private func syncNow() {
        syncScheduled = false
        guard !unsynced.isEmpty else { return }
        let waiting = unsynced
        unsynced = []
        let result: Result<Void, Error>
        let started = MonotonicClock.now()
        do { try file.sync(); result = .success(()) } catch { fail(error); result = .failure(error) }
        let now = MonotonicClock.now()
        fsyncDuration.observe(sinceNanos: started, nowNanos: now)
        if case .success = result {
            do { try indexes.add(waiting.map(\.indexed)) } catch { fail(error) }
            durableHeight.store(writtenHeight, ordering: .releasing)
            for block in waiting { commitDuration.observe(sinceNanos: block.cutAt, nowNanos: now) }
        }
        report(waiting.map { ($0.txids, result) })
    }

    private func fail(_ error: Error) {
        failures.add(1, ordering: .relaxed)
        if failure == nil { failureText.withLock { $0 = "write failed: \(error) (nothing more is acknowledged; restart the peer once the cause is fixed)" } }
        failure = error
    }

    private func report(_ done: [Outcome]) {
        outcomes.withLock { $0.append(contentsOf: done) }
        onDurable()
    }

    /// The outcomes not taken yet.
    func takeOutcomes() -> [Outcome] { outcomes.withLock { list in defer { list = [] }; return list } }

    /// Waits until every block handed over so far is written and synced.
    func finish() {
        queue.sync {
            syncNow()
            if failure == nil { do { try indexes.sync() } catch { fail(error) } }
        }
    }
}
