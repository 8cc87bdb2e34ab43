import Dispatch
import Foundation
import Logging
import SwiftProtobuf
import Synchronization

/// Fabric v0.6's PBFT, batch mode (PROTOCOL.md section 8), as a `Consenter`.
///
/// The protocol itself is `PBFTReplica`, a deterministic state machine with
/// no I/O. This adapter is everything around it, on the consensus fan's queue:
/// it turns client transactions into requests and spreads them, decodes and
/// checks the senders of PBFT messages, ticks the replica's logical clock,
/// sends what the replica asks for, executes committed batches into blocks on
/// the durable ledger, and answers each client once its block is fsynced here.
public final class PBFTConsenter: Consenter, @unchecked Sendable {
    /// The logical clock's period: every PBFT timeout is a whole number of ticks.
    static let tickNanos: UInt64 = 10_000_000

    let options: PBFTOptions
    let replicaNames: [String]
    let selfReplica: UInt64
    private let replicaByName: [String: UInt64]
    private let byzantine: PBFTByzantineMode?
    /// Client requests wrapped so far (`lose-spread` loses every third broadcast).
    private var wrapped = 0
    /// Requests stamped anew: old key -> the key their client now waits on. Should the
    /// old one still be ordered (it was in a batch somewhere when it was overtaken
    /// here), its client is answered SUCCESS then, not FAILURE for the duplicate later.
    private var restamped: [RequestKey: RequestKey] = [:]
    /// TLS on: signs this replica's VIEW-CHANGEs and checks everyone's; nil = unsigned, as Fabric with security off.
    private let signatures: PBFTSignatures?
    /// Per sending replica: when a forged message from it was last logged (uptime nanoseconds).
    private var forgedLoggedAt: [UInt64: UInt64] = [:]
    /// `bad-blocks` (test mode): SYNC_BLOCKS answers spoiled so far.
    private var badBlockAnswers = 0
    private let logger: Logger
    private let ledger: LedgerWriter
    private let ledgerPath: String
    let metrics = PBFTMetrics()
    private let blockServer: BlockServer
    /// What the replica must not forget across a restart.
    private let store: PBFTStore
    /// Set once a PBFT record could not be written: the replica stops taking
    /// part (it must not send what it could not record).
    private var storeFailure: String?
    /// The first failed ledger write was logged (it fails every write after it: restart).
    private var ledgerFailureLogged = false
    private let blocksPerRequest: Int
    /// A client transaction larger than this is refused (FAILURE), not ordered.
    private let maxTransactionBytes: Int
    private let syncTimeoutTicks: Int

    // Fan-queue state.
    private var context: FanContext?
    private var replica: PBFTReplica
    private var assembler: BlockAssembler
    private var ticker: DispatchSourceTimer?
    private var lastRequestStamp: (seconds: Int64, nanos: Int32) = (0, 0)
    /// Requests this validator received from its own clients, until answered.
    private var clients: [RequestKey: ClientRequest] = [:]
    /// Answers waiting for their block to be durable, one entry per block appended, in order.
    private var pendingAnswers: [[Answer]] = []
    private var pendingAnswersHead = 0
    private var ticks = 0
    /// The replicas connected at the last look (every 10 ticks).
    private var connectedReplicas: Set<UInt64> = []
    private var stopped = false
    /// The catch-up under way, if any.
    private var transfer: StateTransfer?
    private var transferCount: UInt64 = 0
    /// When this replica left its last working view (for the time-to-new-view histogram).
    private var viewChangeStartedAt: UInt64?

    struct ClientRequest {
        let client: PeerID
        let txid: String
        let receivedAt: UInt64
    }

    struct Answer {
        let client: PeerID
        let txid: String
        let duplicate: Bool
    }

    /// Checks the PBFT settings against this peer's name and opens (and
    /// recovers) the ledger; a bad setting or a corrupt ledger throws, naming it.
    public init(config: PeerConfig, logger: Logger = Logger(label: "weft.pbft")) throws {
        let settings = config.pbft
        var options = try PBFTOptions(settings)
        // A PRE-PREPARE carries its whole batch: keep it a frame below the
        // limit every replica enforces (64 KiB for the envelopes around it).
        options.maxBatchBytes = max(1, config.limits.maxFrameSize - 65_536)
        options.viewChangesVerified = config.tls.enabled  // PBFTSignatures checks every VIEW-CHANGE, relayed ones too
        self.options = options
        maxTransactionBytes = options.maxBatchBytes / 2
        replicaNames = try PBFTConsenter.replicaNames(settings)
        guard let index = replicaNames.firstIndex(of: config.peerID) else {
            throw ConfigError(key: "peer.id", reason: "'\(config.peerID)' is not a PBFT replica (replicas: \(replicaNames.joined(separator: ", ")); see pbft.general.validators)")
        }
        selfReplica = UInt64(index)
        replicaByName = Dictionary(uniqueKeysWithValues: replicaNames.enumerated().map { ($1, UInt64($0)) })
        byzantine = settings.byzantine.isEmpty ? nil : PBFTByzantineMode(rawValue: settings.byzantine)
        self.logger = logger
        if config.tls.enabled {
            let signer = try MessageSigner(keyFile: config.tls.keyFile)
            guard let own = SignatureVerifier(certificateFile: config.tls.certFile) else {
                throw ConfigError(key: "peer.tls.cert.file", reason: "'\(config.tls.certFile)' holds no usable PEM certificate")
            }
            signatures = PBFTSignatures(signer: signer, ownKey: own, selfReplica: selfReplica, replicaNames: replicaNames)
        } else {
            signatures = nil
        }

        let bringUp = try LedgerBringUp(fileSystemPath: config.fileSystemPath, groupCommitNanos: 0, blocksPerRequest: config.sync.blocksPerRequest,
                                        recentTxids: config.pbft.txidWindow, logger: logger)
        ledgerPath = bringUp.blocksPath
        let tip = bringUp.tip
        var lastExecuted: UInt64 = 0
        if let last = tip.lastBlock, let metadata = try? Pbft_metadata(serializedBytes: last.consensusMetadata) {
            lastExecuted = metadata.seqNo
        }
        assembler = BlockAssembler(height: tip.height, lastHash: tip.lastHash,
                                   recentTxids: TxidWindow(capacity: config.pbft.txidWindow, chainOrder: tip.recentTxids),
                                   previousHash: tip.previousHash)
        ledger = bringUp.writer
        blockServer = bringUp.blockServer
        blocksPerRequest = config.sync.blocksPerRequest
        syncTimeoutTicks = Int(max(1, config.sync.requestTimeoutNanos / Self.tickNanos))
        store = try PBFTStore(directory: (config.fileSystemPath as NSString).appendingPathComponent("pbft"))
        let stored = try store.load()
        replica = PBFTReplica(id: selfReplica, options: options, lastExecuted: lastExecuted,
                              lastCheckpointID: tip.height == 0 ? "" : assembler.checkpointID, restoring: stored)
        if !stored.isEmpty {
            logger.notice("pbft: restored \(stored.count) records from \(store.directory): view \(replica.view), low watermark \(replica.lowWatermark)")
        }
        ledger.onDurable = { [weak self] in
            guard let self, let queue = self.context?.queue else { return }
            queue.async { self.answerDurable() }
        }
        logger.info("pbft: replica \(selfReplica) of \(options.n) (f \(options.f), quorum \(options.quorum), K \(options.k), L \(options.logSize)); ledger \(ledgerPath): height \(tip.height), last sequence \(lastExecuted)")
        metrics.update(from: replica, outstanding: 0)
    }

    /// The replica names in id order, checked against N.
    static func replicaNames(_ settings: PeerConfig.PBFT) throws(ConfigError) -> [String] {
        if !settings.validators.isEmpty && settings.validators.count != settings.n {
            throw ConfigError(key: "pbft.general.validators",
                              reason: "names \(settings.validators.count) replicas but pbft.general.N is \(settings.n)")
        }
        return settings.replicaNames
    }

    public var chainHeight: UInt64 { ledger.durableHeight.load(ordering: .acquiring) }

    public var failedHealthChecks: [String] { metrics.failedHealthChecks(quorum: options.quorum) + ledger.failedHealthChecks }

    public func writeMetrics(to text: inout String) {
        metrics.write(to: &text)
        ledger.writeMetrics(to: &text)
    }

    public func start(_ context: FanContext) throws {
        self.context = context
        let timer = DispatchSource.makeTimerSource(queue: context.queue)
        timer.schedule(deadline: .now() + .nanoseconds(Int(Self.tickNanos)), repeating: .nanoseconds(Int(Self.tickNanos)))
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.resume()
        ticker = timer
    }

    public func recvMsg(_ message: consuming Message, from sender: PeerID) {
        guard let context else { return }
        switch message.type {
        case .chainTransaction:
            clientTransaction(message, from: sender, context)
        case .consensus:
            guard !stopped else { return }
            replicaMessage(message, from: sender)
        case .syncGetBlocks:
            serveBlocks(message, to: sender, context)
            return
        case .syncBlocks:
            guard !stopped else { return }
            receiveBlocks(message, from: sender)
        default:
            return
        }
        performAll()
    }

    // MARK: inputs

    /// A client's transaction: checked, stamped, kept for the answer, spread to every replica.
    private func clientTransaction(_ message: Message, from sender: PeerID, _ context: FanContext) {
        guard let tx = try? Protos_Transaction(serializedBytes: message.payload), !tx.txid.isEmpty else {
            try? context.communicator.unicast(Responses.response(.failure, "malformed transaction"), to: sender)
            return
        }
        if stopped {
            try? context.communicator.unicast(Responses.response(.failure, "\(tx.txid): shutting down"), to: sender)
            return
        }
        guard message.payloadBytes.count <= maxTransactionBytes else {
            let reason = "\(tx.txid): transaction of \(message.payloadBytes.count) bytes is over the limit of \(maxTransactionBytes) (half of peer.limits.maxFrameSize less 64 KiB)"
            try? context.communicator.unicast(Responses.response(.failure, reason), to: sender)
            return
        }
        var request = Pbft_request()
        request.timestamp = nextRequestStamp()
        request.payload = Data(message.payloadBytes)
        request.replicaID = selfReplica
        let key = RequestKey(request)
        clients[key] = ClientRequest(client: sender, txid: tx.txid, receivedAt: DispatchTime.now().uptimeNanoseconds)
        wrapped &+= 1
        if byzantine != .loseSpread || wrapped % 3 != 0 {
            var spread = Pbft_batch_message()
            spread.request = request
            broadcast(spread)
        }
        replica.receiveRequest(request)
    }

    /// One of this validator's requests was overtaken by a later one that
    /// executed first (its spread was lost somewhere): the replicas refuse its
    /// timestamp now, so it goes out again under a new one. The client waits
    /// on the new key; were both ever ordered, the block keeps the txid once.
    private func stampAnew(_ old: Pbft_request) {
        var request = old
        request.timestamp = nextRequestStamp()
        if let client = clients.removeValue(forKey: RequestKey(old)) {
            clients[RequestKey(request)] = client
            restamped[RequestKey(old)] = RequestKey(request)
            if restamped.count > 4096 { restamped = restamped.filter { clients[$0.value] != nil } }
            logger.info("pbft: request for \(client.txid) was overtaken by a later one of this replica; spread again under a new timestamp")
        }
        var spread = Pbft_batch_message()
        spread.request = request
        broadcast(spread)
        replica.receiveRequest(request)
    }

    /// A CONSENSUS message from another validator: a spread request or a PBFT protocol message.
    private func replicaMessage(_ message: Message, from sender: PeerID) {
        guard let from = replicaByName[sender.name] else {
            metrics.count(.notAReplica)
            return
        }
        guard let envelope = try? Pbft_batch_message(serializedBytes: message.payload) else {
            metrics.count(.undecodable)
            return
        }
        switch envelope.payload {
        case .request(let request):
            guard request.replicaID == from else { metrics.count(.wrongSender); return }
            replica.receiveRequest(request)
        case .pbftMessage(let bytes):
            guard let inner = try? Pbft_message(serializedBytes: bytes) else { metrics.count(.undecodable); return }
            if let signatures {
                let before = signatures.verified
                if let why = signatures.check(inner, peers: { self.context?.communicator.peers() ?? [] }) {
                    forged(why, from: from)
                    return
                }
                if signatures.verified != before { metrics.signaturesVerified(signatures.verified) }
            }
            replica.receive(inner, from: from)
        default:
            metrics.count(.undecodable)   // request_batch and complaint are unused in v0.6
        }
    }

    /// A forged VIEW-CHANGE or NEW-VIEW: dropped, counted, logged at most once a minute per sender.
    private func forged(_ why: String, from sender: UInt64) {
        metrics.count(.forged)
        let now = DispatchTime.now().uptimeNanoseconds
        if let last = forgedLoggedAt[sender], now - last < 60_000_000_000 { return }
        forgedLoggedAt[sender] = now
        logger.warning("pbft: dropped a forged message from \(replicaNames[Int(sender)]): \(why) (logged at most once a minute per sender; see weft_pbft_messages_dropped_total{cause=\"forged\"})")
    }

    private func tick() {
        guard !stopped else { return }
        ticks += 1
        replica.tick()
        if var current = transfer, ticks - current.askedAt >= syncTimeoutTicks {
            logger.warning("pbft: state transfer: replica \(current.source.map(String.init) ?? "?") did not answer within \(syncTimeoutTicks) ticks; asking the next")
            current.nextSource(bad: false)
            transfer = current
            askForBlocks()
        }
        if let byzantine, ticks % 10 == 0,
           let lies = byzantine.tick(replica: replica, selfID: selfReplica, round: ticks / 10, sign: signatures.map { s in { s.sign($0) } }) {
            perform(lies)
        }
        performAll()
        if ticks % 10 == 0 {
            let connected = Set(context?.communicator.peers().compactMap { replicaByName[$0.name] } ?? [])
            // A replica that (re)connected may have missed the checkpoints
            // announced while it was away: tell it where this one stands, so a
            // restarted replica catches up even on an idle network.
            for newcomer in connected.subtracting(connectedReplicas).sorted() {
                replica.announceCheckpoint(to: newcomer)
                // Requests spread before this replica was connected never
                // reached it; the primary among them would time them out into
                // a view change.
                resendOwnRequests(to: newcomer)
            }
            connectedReplicas = connected
            performAll()
            metrics.update(from: replica, outstanding: replica.outstandingCount, connectedReplicas: connected.count + 1)
        }
    }

    // MARK: outputs

    /// Carries out what the replica asked for, and what that made it ask for
    /// (an execution leads to a checkpoint), until it asks for nothing more.
    private func performAll() {
        while true {
            let actions = replica.takeActions()
            if actions.isEmpty { return }
            perform(actions)
        }
    }

    private func perform(_ actions: [PBFTAction]) {
        for action in actions {
            guard storeFailure == nil else { return }
            switch action {
            case .persist(let key, let value):
                do { try store.apply(key: key, value: value) } catch {
                    storeFailure = "\(error)"
                    metrics.storeFailed("\(error)")
                    logger.critical("pbft: cannot record \(key): \(error); this replica stops taking part until restarted")
                }
            case .resendRequests(let requests):
                for request in requests {
                    var spread = Pbft_batch_message()
                    spread.request = request
                    broadcast(spread)
                }
            case .broadcast(var message):
                if let signatures { message = signatures.seal(message) }
                if let byzantine, let lies = byzantine.rewrite(message, replicaCount: options.n, selfID: selfReplica) {
                    for (target, lie) in lies { send(lie, to: target) }
                } else {
                    broadcast(message)
                }
            case .send(var message, let target):
                if let signatures { message = signatures.seal(message) }
                send(message, to: target)
            case .execute(let sequence, let batch, _):
                execute(sequence, batch)
            case .requestsCompleted:
                break   // clients are answered when their block is durable
            case .requestsOvertaken(let requests):
                for request in requests where request.replicaID == selfReplica { stampAnew(request) }
            case .stateTransfer(let sequence, let checkpointID, let replicas):
                startStateTransfer(sequence: sequence, checkpointID: checkpointID, sources: replicas)
            case .viewChangeStarted(let from, let to, let reason):
                if viewChangeStartedAt == nil { viewChangeStartedAt = DispatchTime.now().uptimeNanoseconds }
                metrics.viewChangeStarted()
                logger.notice("pbft: view change from view \(from) to \(to) (primary \(name(of: to))): \(reason.explanation)")
            case .newViewInstalled(let view):
                let now = DispatchTime.now().uptimeNanoseconds
                if let started = viewChangeStartedAt { metrics.timeToNewView.observe(sinceNanos: started, nowNanos: now) }
                viewChangeStartedAt = nil
                metrics.newViewInstalled()
                logger.notice("pbft: new view \(view) installed, primary \(name(of: view))")
            }
        }
    }

    private func broadcast(_ message: Pbft_message) {
        var envelope = Pbft_batch_message()
        envelope.pbftMessage = Data(PBFTEncoding.bytes(message))
        broadcast(envelope)
    }

    private func broadcast(_ envelope: Pbft_batch_message) {
        guard let context, let payload: [UInt8] = try? envelope.serializedBytes() else { return }
        context.communicator.broadcast(Message(type: .consensus, payload: payload), to: .validators)
    }

    private func send(_ message: Pbft_message, to target: UInt64) {
        guard target != selfReplica, let context, Int(target) < replicaNames.count else { return }
        var envelope = Pbft_batch_message()
        envelope.pbftMessage = Data(PBFTEncoding.bytes(message))
        guard let payload: [UInt8] = try? envelope.serializedBytes() else { return }
        // A replica not connected now misses it, as a lost message: PBFT's
        // retransmission and view change cover that.
        try? context.communicator.unicast(Message(type: .consensus, payload: payload), to: PeerID(name: replicaNames[Int(target)]))
    }

    /// A committed batch becomes the next block (a null request, none).
    private func execute(_ sequence: UInt64, _ batch: Pbft_request_batch?) {
        guard let batch else {
            replica.executed(sequence: sequence, checkpointID: assembler.checkpointID)
            return
        }
        let block = assembler.assemble(sequence: sequence, batch: batch)
        let now = DispatchTime.now().uptimeNanoseconds
        var answers: [Answer] = []
        for (txid, key) in block.included {
            let waiting = restamped.removeValue(forKey: key).flatMap { clients[$0] != nil ? $0 : nil } ?? key
            guard let request = clients.removeValue(forKey: waiting) else { continue }
            metrics.commitLatency.observe(sinceNanos: request.receivedAt, nowNanos: now)
            answers.append(Answer(client: request.client, txid: txid, duplicate: false))
        }
        for (txid, key) in block.duplicates {
            guard let request = clients.removeValue(forKey: key) else { continue }
            answers.append(Answer(client: request.client, txid: txid, duplicate: true))
        }
        if !block.duplicates.isEmpty {
            logger.notice("pbft: sequence \(sequence): \(block.duplicates.count) transactions skipped, their txids already in the chain")
        }
        pendingAnswers.append(answers)
        ledger.append(block.bytes, txids: [])
        metrics.executed(transactions: block.included.count)
        replica.executed(sequence: sequence, checkpointID: assembler.checkpointID)
    }

    /// Answers the clients of every block whose outcome the ledger reported (in append order).
    private func answerDurable() {
        guard let context else { return }
        for (_, result) in ledger.takeOutcomes() {
            guard pendingAnswersHead < pendingAnswers.count else { break }
            let answers = pendingAnswers[pendingAnswersHead]
            pendingAnswersHead += 1
            for answer in answers {
                let reply: Message
                switch result {
                case .success where answer.duplicate:
                    reply = Responses.response(.failure, "\(answer.txid): duplicate txid (already in the chain)")
                case .success:
                    reply = Responses.response(.success, answer.txid)
                case .failure(let error):
                    if !ledgerFailureLogged {
                        ledgerFailureLogged = true
                        logger.critical("pbft: ledger write failed: \(error); this validator acknowledges nothing more (its clients are answered FAILURE) until it is restarted once the cause is fixed; the restart truncates a torn tail and catches up by state transfer")
                    }
                    reply = Responses.response(.failure, "\(answer.txid): ledger write failed: \(error)")
                }
                try? context.communicator.unicast(reply, to: answer.client)
            }
        }
        if pendingAnswersHead > 1024 && pendingAnswersHead * 2 > pendingAnswers.count {
            pendingAnswers.removeFirst(pendingAnswersHead)
            pendingAnswersHead = 0
        }
    }

    // MARK: state transfer (PROTOCOL.md section 9)

    /// SYNC_GET_BLOCKS: answered from the ledger.
    private func serveBlocks(_ message: Message, to sender: PeerID, _ context: FanContext) {
        guard let answer = blockServer.answer(message.payload, durableHeight: ledger.durableHeight.load(ordering: .acquiring)) else {
            metrics.count(.undecodable)
            return
        }
        if byzantine == .badBlocks, case .syncBlocks = answer.type,
           var blocks = try? Protos_SyncBlocks(serializedBytes: answer.payload), !blocks.blocks.isEmpty {
            badBlockAnswers += 1
            PBFTByzantineMode.spoil(&blocks.blocks, round: badBlockAnswers)
            if let payload: [UInt8] = try? blocks.serializedBytes() {
                try? context.communicator.unicast(Message(type: .syncBlocks, payload: payload), to: sender)
            }
            return
        }
        try? context.communicator.unicast(answer, to: sender)
    }

    private func startStateTransfer(sequence: UInt64, checkpointID: String, sources: [UInt64]) {
        guard transfer == nil || transfer!.sequence < sequence else { return }
        transferCount += 1
        guard let fresh = StateTransfer(sequence: sequence, checkpointID: checkpointID, sources: sources.filter { $0 != selfReplica },
                                        height: assembler.height, lastHash: assembler.lastHash, correlationID: transferCount << 32) else {
            logger.error("pbft: state transfer to sequence \(sequence): the checkpoint id is not a BlockchainInfo; not started")
            replica.stateTransferFailed(sequence: sequence)
            return
        }
        logger.notice("pbft: state transfer: from height \(assembler.height) to height \(fresh.targetHeight) (sequence \(sequence)), sources \(fresh.sources.map { replicaNames[Int($0)] })")
        metrics.stateTransferStarted()
        transfer = fresh
        if fresh.isComplete { finishStateTransfer() } else { askForBlocks() }
    }

    private func askForBlocks() {
        guard var current = transfer, let source = current.source, let context else { return }
        current.askedAt = ticks
        transfer = current
        guard let payload: [UInt8] = try? current.nextRange(per: blocksPerRequest).serializedBytes() else { return }
        try? context.communicator.unicast(Message(type: .syncGetBlocks, payload: payload), to: PeerID(name: replicaNames[Int(source)]))
    }

    private func receiveBlocks(_ message: Message, from sender: PeerID) {
        guard var current = transfer, let from = replicaByName[sender.name],
              let answer = try? Protos_SyncBlocks(serializedBytes: message.payload) else { return }
        switch current.receive(answer, from: from) {
        case .ignored:
            return
        case .badSource(let why):
            logger.warning("pbft: state transfer: \(sender) sent bad blocks (\(why)); asking another replica")
            metrics.badBlocks()
            current.nextSource(bad: true)
            transfer = current
            askForBlocks()
        case .progress:
            transfer = current
            if current.isComplete { finishStateTransfer() } else { askForBlocks() }
        }
    }

    /// Every block checked up to the target: append them, answer the clients
    /// whose transactions they hold, and let the replica go on from there.
    private func finishStateTransfer() {
        guard let done = transfer else { return }
        transfer = nil
        var waiting: [String: [RequestKey]] = [:]
        for (key, request) in clients { waiting[request.txid, default: []].append(key) }
        for (block, bytes) in done.fetched {
            var answers: [Answer] = []
            for tx in block.transactions {
                for key in waiting.removeValue(forKey: tx.txid) ?? [] {
                    if let request = clients.removeValue(forKey: key) {
                        answers.append(Answer(client: request.client, txid: tx.txid, duplicate: false))
                    }
                }
            }
            assembler.adopt(block, bytes: bytes)
            pendingAnswers.append(answers)
            ledger.append(bytes, txids: [])
        }
        metrics.blocksFetched(done.fetched.count)
        let source = done.source.map { replicaNames[Int($0)] } ?? "?"
        logger.notice("pbft: state transfer done: height \(assembler.height) (sequence \(done.sequence)), \(done.fetched.count) blocks from \(source)")
        replica.stateTransferCompleted(sequence: done.sequence, checkpointID: done.checkpointID)
    }

    /// This validator's clients' requests still outstanding, spread again to one replica.
    private func resendOwnRequests(to target: UInt64) {
        guard let context, Int(target) < replicaNames.count else { return }
        let peer = PeerID(name: replicaNames[Int(target)])
        for entry in replica.pool.all where entry.key.replica == selfReplica {
            var spread = Pbft_batch_message()
            spread.request = entry.request
            guard let payload: [UInt8] = try? spread.serializedBytes() else { continue }
            try? context.communicator.unicast(Message(type: .consensus, payload: payload), to: peer)
        }
    }

    /// The replica name of the primary of `view`.
    private func name(of view: UInt64) -> String { replicaNames[Int(view % UInt64(options.n))] }

    /// Strictly increasing per replica (the per-replica de-duplication key), from the wall clock.
    private func nextRequestStamp() -> SwiftProtobuf.Google_Protobuf_Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var stamp = (seconds: Int64(now.tv_sec), nanos: Int32(now.tv_nsec))
        if stamp.seconds < lastRequestStamp.seconds || (stamp.seconds == lastRequestStamp.seconds && stamp.nanos <= lastRequestStamp.nanos) {
            stamp = lastRequestStamp.nanos >= 999_999_999 ? (lastRequestStamp.seconds + 1, 0) : (lastRequestStamp.seconds, lastRequestStamp.nanos + 1)
        }
        lastRequestStamp = stamp
        var timestamp = SwiftProtobuf.Google_Protobuf_Timestamp()
        timestamp.seconds = stamp.seconds
        timestamp.nanos = stamp.nanos
        return timestamp
    }

    /// Shutdown: what is committed is written and answered; clients still waiting get FAILURE.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        ticker?.cancel()
        ledger.finish()
        answerDurable()
        guard let context else { return }
        for request in clients.values {
            try? context.communicator.unicast(Responses.response(.failure, "\(request.txid): shutting down before it was ordered"), to: request.client)
        }
        clients.removeAll()
    }
}

extension PBFTOptions {
    /// The replica's options from `pbft.*`, durations in ticks of `PBFTConsenter.tickNanos`; refuses N < 3f+1 and the like.
    init(_ settings: PeerConfig.PBFT) throws(ConfigError) {
        func ticks(_ nanos: UInt64) -> Int { nanos == 0 ? 0 : Int(max(1, (nanos + PBFTConsenter.tickNanos - 1) / PBFTConsenter.tickNanos)) }
        self.init(n: settings.n, f: settings.f, k: UInt64(settings.k), logMultiplier: UInt64(settings.logMultiplier),
                  batchSize: settings.batchSize, batchTimeoutTicks: ticks(settings.batchTimeoutNanos),
                  requestTimeoutTicks: ticks(settings.requestTimeoutNanos), viewChangeTimeoutTicks: ticks(settings.viewChangeTimeoutNanos),
                  resendViewChangeTicks: ticks(settings.resendViewChangeNanos), nullRequestTicks: ticks(settings.nullRequestNanos))
        do { try validate() } catch {
            // "pbft.general.N must be >= 3f+1 ...": the key first, then why.
            let text = "\(error)"
            let key = text.prefix { $0 != " " }
            throw ConfigError(key: String(key), reason: String(text.dropFirst(key.count + 1)))
        }
    }
}

extension PBFTViewChangeReason {
    /// Why, for the operator's log line.
    var explanation: String {
        switch self {
        case .requestTimeout: return "a request waited longer than pbft.general.timeout.request"
        case .conflictingPrePrepare: return "the primary sent two different batches for one sequence number"
        case .joinedOthers: return "f+1 replicas asked for a higher view"
        case .newViewTimeout: return "no NEW-VIEW within pbft.general.timeout.viewchange"
        case .badNewView: return "the NEW-VIEW did not match the view-changes it was built from"
        case .primaryIdle: return "the primary sent nothing within pbft.general.timeout.nullrequest"
        }
    }
}
