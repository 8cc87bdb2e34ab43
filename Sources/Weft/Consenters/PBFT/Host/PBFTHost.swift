import Foundation
import Logging

/// Everything around the replica, on the consensus fan's queue: client
/// transactions become stamped requests spread to every replica; CONSENSUS
/// messages are decoded and their senders checked; the replica's logical
/// clock is ticked; what it readies is stored, and once durable sent, then
/// executed into blocks; clients are answered once their block is durable;
/// a replica that is behind catches up by state transfer, and serves blocks
/// to others.
///
/// Every effect goes through a port — `Communicator` (network), `PBFTClock`,
/// `PBFTLedger` (blocks), `PBFTRecordStore` (the replica's records) — so the
/// whole-host simulator runs this same code over a simulated world.
final class PBFTHost {
    let settings: PBFTHostSettings
    let replica: PBFTReplica
    var assembler: BlockAssembler
    let network: Communicator
    let clock: PBFTClock
    let ledger: PBFTLedger
    let records: PBFTRecordStore
    /// TLS on: signs this replica's VIEW-CHANGEs and checks everyone's; nil = unsigned, as Fabric with security off.
    let signatures: PBFTSignatures?
    let byzantine: ByzantineSeam?
    let metrics: PBFTMetrics
    let logger: Logger
    let clients = ClientRequests()
    let transfers: StateTransferClient
    let replicaByName: [String: UInt64]
    var stamper: RequestStamper
    var durability = DurabilityGate()
    var ticks = 0
    var stopped = false
    /// Set once a PBFT record could not be written: the replica stops taking
    /// part (it must not send what it could not record).
    var storeFailure: String?
    /// The ticket of the last records handed to `records`, and what waits for them to be durable.
    var recordTicket: UInt64 = 0
    var held = HeldOutputs()
    /// This validator's requests to spread at the end of the round (`flushSpreads`).
    var spreads: SpreadBuffer
    /// The first failed ledger write was logged (it fails every write after it: restart).
    var ledgerFailureLogged = false
    /// The replicas connected at the last look (every 10 ticks).
    var connectedReplicas: Set<UInt64> = []
    /// Per sending replica: when a forged message from it was last logged (monotonic nanoseconds).
    var forgedLoggedAt: [UInt64: UInt64] = [:]
    /// When this replica left its last working view (for the time-to-new-view histogram).
    var viewChangeStartedAt: UInt64?

    init(settings: PBFTHostSettings, replica: PBFTReplica, assembler: BlockAssembler, stamper: RequestStamper,
         network: Communicator, clock: PBFTClock, ledger: PBFTLedger, records: PBFTRecordStore, signatures: PBFTSignatures?,
         byzantine: ByzantineSeam?, metrics: PBFTMetrics, logger: Logger) {
        self.settings = settings
        self.replica = replica
        self.assembler = assembler
        self.stamper = stamper
        self.network = network
        self.clock = clock
        self.ledger = ledger
        self.records = records
        self.signatures = signatures
        self.byzantine = byzantine
        self.metrics = metrics
        self.logger = logger
        spreads = SpreadBuffer(maxBytes: settings.options.maxBatchBytes)
        transfers = StateTransferClient(blocksPerRequest: settings.blocksPerRequest, timeoutTicks: settings.syncTimeoutTicks)
        replicaByName = Dictionary(uniqueKeysWithValues: settings.replicaNames.enumerated().map { ($1, UInt64($0)) })
    }

    var selfReplica: UInt64 { settings.selfReplica }

    // MARK: inputs

    /// A CHAIN_TRANSACTION, CONSENSUS, SYNC_GET_BLOCKS or SYNC_BLOCKS message.
    /// What it readies waits for `flush()`, at the end of the burst.
    func receive(_ message: Message, from sender: PeerID) {
        switch message.type {
        case .chainTransaction:
            clientTransaction(message, from: sender)
        case .consensus:
            guard !stopped else { return }
            replicaMessage(message, from: sender)
        case .syncGetBlocks:
            serveBlocks(message, to: sender)
            return
        case .syncBlocks:
            guard !stopped else { return }
            receiveBlocks(message, from: sender)
        default:
            return
        }
    }

    /// The end of a burst of messages: what they readied is handed to the
    /// record store, and sent once it is durable (`recordsSettled`).
    func flush() { performAll() }

    /// A client's transaction: checked, stamped, kept for the answer, spread to every replica.
    private func clientTransaction(_ message: Message, from sender: PeerID) {
        guard let tx = try? Protos_Transaction(serializedBytes: message.payload), !tx.txid.isEmpty else {
            return answer(sender, .failure, "malformed transaction")
        }
        if stopped { return answer(sender, .failure, "\(tx.txid): shutting down") }
        guard message.payloadBytes.count <= settings.maxTransactionBytes else {
            return answer(sender, .failure, "\(tx.txid): transaction of \(message.payloadBytes.count) bytes is over the limit of \(settings.maxTransactionBytes) (half of peer.limits.maxFrameSize less 64 KiB)")
        }
        guard clients.waitingCount < settings.maxOutstanding else {
            metrics.count(.overloaded)
            return answer(sender, .failure, "\(tx.txid): \(clients.waitingCount) transactions of this validator's clients are outstanding, the most pbft.general.maxoutstanding allows; retry later")
        }
        var request = Pbft_request()
        do {
            request.timestamp = try nextStamp()
        } catch {
            return answer(sender, .failure, "\(tx.txid): \(error.reason)")
        }
        request.payload = Data(message.payloadBytes)
        request.replicaID = selfReplica
        if replica.pool.isExecutedOrOlder(RequestKey(request)) {
            return answer(sender, .failure, "\(tx.txid): its request stamp is not after one of this validator already executed")
        }
        clients.wait(RequestKey(request), .init(client: sender, txid: tx.txid, receivedAt: clock.monotonicNanos(), payload: request.payload))
        if byzantine?.spreadsNewRequest() ?? true { hold(.spread(request)) }
        replica.receiveRequest(request)
    }

    /// One of this validator's requests was overtaken by a later one that
    /// executed first (its spread was lost somewhere): the replicas refuse its
    /// timestamp now, so it goes out again under a new one. The client waits
    /// on the new key; were both ever ordered, the block keeps the txid once.
    func stampAnew(_ old: Pbft_request) {
        var request = old
        do {
            request.timestamp = try nextStamp()
        } catch {
            if let client = clients.stopWaiting(on: RequestKey(old)) { answer(client.client, .failure, "\(client.txid): \(error.reason)") }
            return
        }
        if let client = clients.restamp(from: RequestKey(old), to: RequestKey(request)) {
            logger.info("pbft: request for \(client.txid) was overtaken by a later one of this replica; spread again under a new timestamp")
        }
        hold(.spread(request))
        replica.receiveRequest(request)
    }

    /// A CONSENSUS message from another validator: a spread request or a PBFT protocol message.
    private func replicaMessage(_ message: Message, from sender: PeerID) {
        guard let from = replicaByName[sender.name] else { return metrics.count(.notAReplica) }
        switch PBFTEnvelope.open(message.payload) {
        case .request(let request):
            guard request.replicaID == from else { return metrics.count(.wrongSender) }
            replica.receiveRequest(request)
        case .requests(let requests):
            // Each is its origin's own, as a single spread must be; a batch naming another
            // origin is refused whole (a correct validator spreads only its own).
            guard requests.allSatisfy({ $0.replicaID == from }) else { return metrics.count(.wrongSender) }
            for request in requests { replica.receiveRequest(request) }
        case .protocolMessage(let inner):
            if let signatures {
                let before = signatures.verified
                if let why = signatures.check(inner, peers: { self.network.peers() }) { return forged(why, from: from) }
                if signatures.verified != before { metrics.signaturesVerified(signatures.verified) }
            }
            replica.receive(inner, from: from)
        case .undecodable:
            metrics.count(.undecodable)
        }
    }

    /// A forged VIEW-CHANGE or NEW-VIEW: dropped, counted, logged at most once a minute per sender.
    private func forged(_ why: String, from sender: UInt64) {
        metrics.count(.forged)
        let now = clock.monotonicNanos()
        if let last = forgedLoggedAt[sender], now - last < 60_000_000_000 { return }
        forgedLoggedAt[sender] = now
        logger.warning("pbft: dropped a forged message from \(settings.replicaNames[Int(sender)]): \(why) (logged at most once a minute per sender; see weft_pbft_messages_dropped_total{cause=\"forged\"})")
    }

    /// One period of the logical clock.
    func tick() {
        guard !stopped else { return }
        ticks += 1
        replica.tick()
        checkTransferTimeout()
        if let byzantine, let lies = byzantine.tick(ticks, replica: replica, selfID: selfReplica, sign: signatures.map { s in { s.sign($0) } }) {
            perform(PBFTReady(lies))
        }
        performAll()
        if ticks % 10 == 0 { lookAtConnections() }
    }

    /// A replica that (re)connected may have missed the checkpoints announced
    /// while it was away: tell it where this one stands, so a restarted replica
    /// catches up even on an idle network; and requests spread before it was
    /// connected never reached it (the primary among them would time them out
    /// into a view change).
    private func lookAtConnections() {
        let connected = Set(network.peers().compactMap { replicaByName[$0.name] })
        for newcomer in connected.subtracting(connectedReplicas).sorted() {
            replica.welcome(newcomer)
            resendOwnRequests(to: newcomer)
        }
        connectedReplicas = connected
        performAll()
        metrics.update(from: replica, outstanding: replica.outstandingCount, connectedReplicas: connected.count + 1)
    }

    /// This validator's clients' requests still outstanding, spread again to one replica.
    private func resendOwnRequests(to target: UInt64) {
        for entry in replica.pool.all where entry.key.replica == selfReplica {
            hold(.spreadTo(entry.request, replica: target))
        }
    }

    /// Shutdown: what is committed is written and answered; clients still waiting get FAILURE.
    /// Held output is flushed, not dropped: once the record writer is joined every record
    /// submitted is durable (or has failed: then nothing held leaves), so what waited is
    /// carried out in order — its sends best effort, as every send, and its executions
    /// written with the ledger below — and the same state always stops the same way.
    func stop() {
        guard !stopped else { return }
        stopped = true
        records.finish()
        if let failure = records.failure, storeFailure == nil { recordsFailed(failure) }
        releaseHeld()
        flushSpreads()
        ledger.finish()
        answerDurable()
        for request in clients.takeAllWaiting() {
            answer(request.client, .failure, "\(request.txid): shutting down before it was ordered")
        }
    }

    // MARK: the network

    func answer(_ client: PeerID, _ status: Protos_Response.StatusCode, _ text: String) {
        try? network.unicast(Responses.response(status, text), to: client)
    }

    func broadcast(_ message: Message?) {
        guard let message else { return }
        network.broadcast(message, to: .validators)
    }

    /// A replica not connected now misses it, as a lost message: PBFT's
    /// retransmission and view change cover that.
    func send(_ message: Message?, to target: UInt64) {
        guard let message, target != selfReplica, Int(target) < settings.replicaNames.count else { return }
        try? network.unicast(message, to: PeerID(name: settings.replicaNames[Int(target)]))
    }
}
