import Dispatch
import Foundation
import Logging
import Synchronization

/// Fabric v0.6's default consenter (PROTOCOL.md section 5), over a durable
/// ledger. A CHAIN_TRANSACTION from a client is broadcast to every validator
/// as CONSENSUS; every validator batches what it receives into blocks of
/// `blockSize` transactions, or whatever it has after `blockTimeout`, and
/// appends them to its ledger. The client is answered RESPONSE SUCCESS (msg =
/// txid) only once the block holding its transaction is fsynced here.
///
/// Everything but the file I/O runs on the fan's queue; blocks are written and
/// synced on the ledger's own queue, off the reactor and the fan.
public final class NoopsConsenter: Consenter, @unchecked Sendable {
    private let blockSize: Int
    private let blockTimeoutNanos: UInt64
    private let ledger: LedgerWriter
    private let blockServer: BlockServer
    private let logger: Logger

    // Fan-queue state.
    private var context: FanContext?
    private var batch: [Protos_Transaction] = []
    private var batchGeneration = 0
    private var lastHash: [UInt8]
    /// Transactions received from clients, waiting for their block to be durable.
    private var awaitingAck: [String: PeerID] = [:]
    private var stopped = false

    /// Opens and recovers the ledger; a corrupt ledger throws (start-up stops).
    public init(config: PeerConfig, logger: Logger = Logger(label: "weft.noops")) throws {
        blockSize = config.consensus.noopsBlockSize
        blockTimeoutNanos = config.consensus.noopsBlockTimeoutNanos
        self.logger = logger
        let path = (config.fileSystemPath as NSString).appendingPathComponent("ledger/blocks")
        let file = try BlockFile(path: path) { logger.warning("\($0)") }
        lastHash = file.recovered.lastHash
        ledger = LedgerWriter(file: file, height: file.recovered.height,
                              groupCommitNanos: config.consensus.noopsSync == "group" ? config.consensus.noopsGroupCommitNanos : 0)
        blockServer = try BlockServer(path: path, recovered: file.recovered, blocksPerRequest: config.sync.blocksPerRequest)
        ledger.onDurable = { [weak self] in
            guard let self, let queue = self.context?.queue else { return }
            queue.async { self.acknowledgeDurable() }
        }
        logger.info("ledger \(path): height \(file.recovered.height)")
        file.forgetRecoveredBlocks()
    }

    public var chainHeight: UInt64 { ledger.durableHeight.load(ordering: .acquiring) }

    /// The ledger, once a write or an fsync failed (every later block fails too).
    public var failedHealthChecks: [String] { ledger.failedHealthChecks }

    public func writeMetrics(to text: inout String) { ledger.writeMetrics(to: &text) }

    public func start(_ context: FanContext) throws { self.context = context }

    public func recvMsg(_ message: Message, from sender: PeerID) {
        guard let context else { return }
        if message.type == .syncGetBlocks {      // any validator answers from its ledger (PROTOCOL.md section 9)
            if let answer = blockServer.answer(message.payload, durableHeight: ledger.durableHeight.load(ordering: .acquiring)) {
                try? context.communicator.unicast(answer, to: sender)
            }
            return
        }
        if stopped {
            if message.type == .chainTransaction {
                let txid = (try? Protos_Transaction(serializedBytes: message.payload))?.txid ?? "?"
                try? context.communicator.unicast(Responses.response(.failure, "\(txid): shutting down"), to: sender)
            }
            return
        }
        switch message.type {
        case .chainTransaction:
            guard let tx = try? Protos_Transaction(serializedBytes: message.payload), !tx.txid.isEmpty else {
                try? context.communicator.unicast(Responses.response(.failure, "malformed transaction"), to: sender)
                return
            }
            awaitingAck[tx.txid] = sender
            context.communicator.broadcast(Message(type: .consensus, payload: message.payloadBytes), to: .validators)
            add(tx)
        case .consensus:
            guard let tx = try? Protos_Transaction(serializedBytes: message.payload) else {
                logger.warning("ignoring a CONSENSUS message from \(sender) that is not a transaction")
                return
            }
            add(tx)
        default:
            break
        }
    }

    private func add(_ tx: Protos_Transaction) {
        batch.append(tx)
        if batch.count >= blockSize {
            cutBlock()
        } else if batch.count == 1, let queue = context?.queue {
            let generation = batchGeneration
            queue.asyncAfter(deadline: .now() + .nanoseconds(Int(blockTimeoutNanos))) { [weak self] in
                guard let self, self.batchGeneration == generation, !self.batch.isEmpty else { return }
                self.cutBlock()
            }
        }
    }

    private func cutBlock() {
        batchGeneration += 1
        var block = Protos_Block()
        block.version = 0
        block.timestamp = .init(date: Date())
        block.transactions = batch
        block.previousBlockHash = Data(lastHash)
        let txids = batch.map(\.txid)
        batch = []
        guard let bytes: [UInt8] = try? block.serializedBytes() else { return }
        lastHash = SHA256.hash(bytes)
        ledger.append(bytes, txids: txids)
        blockServer.appended(length: bytes.count)
    }

    /// Answers the clients whose transactions are in a block that is now durable (or failed).
    private func acknowledgeDurable() {
        for (txids, result) in ledger.takeOutcomes() { acknowledge(txids, result) }
    }

    private func acknowledge(_ txids: [String], _ result: Result<Void, Error>) {
        guard let context else { return }
        for txid in txids {
            guard let client = awaitingAck.removeValue(forKey: txid) else { continue }
            let answer: Message
            switch result {
            case .success: answer = Responses.response(.success, txid)
            case .failure(let error): answer = Responses.response(.failure, "\(txid): ledger write failed: \(error)")
            }
            try? context.communicator.unicast(answer, to: client)
        }
    }

    /// Shutdown: cut what is batched, wait until it is durable, answer the clients.
    public func stop() {
        guard !stopped else { return }
        if !batch.isEmpty { cutBlock() }
        stopped = true
        ledger.finish()
        acknowledgeDurable()
    }
}

/// Appends blocks on a serial queue of its own: write, then fsync per block,
/// or once per group-commit window for all blocks written in it. Outcomes are
/// collected in `outcomes` and announced through `onDurable`.
final class LedgerWriter: @unchecked Sendable {
    typealias Outcome = (txids: [String], result: Result<Void, Error>)
    private let file: BlockFile
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
        text += "# HELP weft_ledger_written_bytes_total Bytes appended to the block file (records with their headers).\n"
        text += "# TYPE weft_ledger_written_bytes_total counter\nweft_ledger_written_bytes_total \(writtenBytes.load(ordering: .relaxed))\n"
        text += "# HELP weft_ledger_write_failures_total Block writes or fsyncs that failed.\n"
        text += "# TYPE weft_ledger_write_failures_total counter\nweft_ledger_write_failures_total \(failures.load(ordering: .relaxed))\n"
        fsyncDuration.write(to: &text)
        commitDuration.write(to: &text)
    }

    /// Called on the ledger queue after outcomes were added.
    var onDurable: @Sendable () -> Void = {}

    // Ledger-queue state.
    private var writtenHeight: UInt64
    private var unsynced: [(txids: [String], cutAt: UInt64)] = []
    private var syncScheduled = false
    private var failure: Error?

    init(file: BlockFile, height: UInt64, groupCommitNanos: UInt64) {
        self.file = file
        writtenHeight = height
        durableHeight = Atomic(height)
        self.groupCommitNanos = groupCommitNanos
    }

    func append(_ bytes: [UInt8], txids: [String]) {
        let cutAt = MonotonicClock.now()
        queue.async { [self] in
            if let failure { report([(txids, .failure(failure))]); return }
            do {
                try file.append(bytes)
                writtenBytes.add(bytes.count + BlockFile.recordHeader, ordering: .relaxed)
                writtenHeight += 1
                unsynced.append((txids, cutAt))
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
    func finish() { queue.sync { syncNow() } }
}
