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
        let bringUp = try LedgerBringUp(fileSystemPath: config.fileSystemPath,
                                        groupCommitNanos: config.consensus.noopsSync == "group" ? config.consensus.noopsGroupCommitNanos : 0,
                                        blocksPerRequest: config.sync.blocksPerRequest, logger: logger)
        lastHash = bringUp.tip.lastHash
        ledger = bringUp.writer
        blockServer = bringUp.blockServer
        ledger.onDurable = { [weak self] in
            guard let self, let queue = self.context?.queue else { return }
            queue.async { self.acknowledgeDurable() }
        }
        logger.info("ledger \(bringUp.blocksPath): height \(bringUp.tip.height)")
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
