import Dispatch
import Foundation
import Logging

/// Fabric v0.6's PBFT, batch mode (PROTOCOL.md section 8), as a `Consenter`.
///
/// The protocol is `PBFTReplica` (Core: a deterministic state machine with no
/// I/O); everything around it is `PBFTHost`, which reaches the world through
/// ports. This adapter only builds the real ports — the fan's communicator,
/// the system clock, the durable ledger file, the records log and its writer —
/// recovers the replica from them, and drives the host from the fan's queue:
/// each message, a 10 ms tick, and the ledger's and the record writer's
/// "durable" callbacks.
public final class PBFTConsenter: Consenter, @unchecked Sendable {
    /// The logical clock's period: every PBFT timeout is a whole number of ticks.
    static let tickNanos: UInt64 = 10_000_000

    let settings: PBFTHostSettings
    let metrics = PBFTMetrics()
    private let logger: Logger
    private let ledger: FileLedger
    private let store: PBFTStore
    /// Writes and fdatasyncs `store` on a queue of its own (off the fan).
    private let recordWriter: RecordWriter
    private let signatures: PBFTSignatures?
    private let byzantine: ByzantineSeam?
    // Built here, handed to the host at start.
    private var recovered: (replica: PBFTReplica, assembler: BlockAssembler, stamper: RequestStamper)?
    /// The recorded request stamp ceiling (see `RequestStamper`).
    // Fan-queue state.
    private var host: PBFTHost?
    private var ticker: DispatchSourceTimer?

    /// Checks the PBFT settings against this peer's name and opens (and
    /// recovers) the ledger; a bad setting or a corrupt ledger throws, naming it.
    public init(config: PeerConfig, logger: Logger = Logger(label: "weft.pbft")) throws {
        let pbft = config.pbft
        var options = try PBFTOptions(pbft)
        // A PRE-PREPARE carries its whole batch: keep it a frame below the
        // limit every replica enforces (64 KiB for the envelopes around it).
        options.maxBatchBytes = max(1, config.limits.maxFrameSize - 65_536)
        options.viewChangesVerified = config.tls.enabled  // PBFTSignatures checks every VIEW-CHANGE, relayed ones too
        // Requests are authenticated by the link they came on, and only TLS links are authenticated:
        // without TLS the check proves nothing (the warning below says so).
        options.authenticatedRequests = config.tls.enabled
        let names = try PBFTConsenter.replicaNames(pbft)
        guard let index = names.firstIndex(of: config.peerID) else {
            throw ConfigError(key: "peer.id", reason: "'\(config.peerID)' is not a PBFT replica (replicas: \(names.joined(separator: ", ")); see pbft.general.validators)")
        }
        let selfReplica = UInt64(index)
        settings = PBFTHostSettings(options: options, replicaNames: names, selfReplica: selfReplica,
                                    maxTransactionBytes: options.maxBatchBytes / 2,
                                    blocksPerRequest: config.sync.blocksPerRequest,
                                    syncTimeoutTicks: Int(max(1, config.sync.requestTimeoutNanos / Self.tickNanos)),
                                    maxOutstanding: pbft.maxOutstanding)
        byzantine = pbft.byzantine.isEmpty ? nil : PBFTByzantineMode(rawValue: pbft.byzantine).map(ByzantineSeam.init)
        self.logger = logger
        signatures = try PBFTConsenter.signatures(config, selfReplica: selfReplica, replicaNames: names)
        if !config.tls.enabled {
            logger.warning("pbft: peer.tls is off: the links between validators are not authenticated, so a byzantine peer can forge requests under another validator's key (and send unsigned VIEW-CHANGEs); use TLS outside a test network")
        }

        let bringUp = try LedgerBringUp(fileSystemPath: config.fileSystemPath, groupCommitNanos: 0,
                                        blocksPerRequest: config.sync.blocksPerRequest, recentTxids: pbft.txidWindow, logger: logger)
        let tip = bringUp.tip
        ledger = FileLedger(writer: bringUp.writer, server: bringUp.blockServer)
        store = try PBFTStore(directory: (config.fileSystemPath as NSString).appendingPathComponent("pbft")) { logger.warning("pbft: records: \($0)") }
        let stored = try store.load()
        if let mended = store.mended { logger.warning("pbft: records: \(mended)") }
        recordWriter = RecordWriter(store: store)
        let (replica, assembler, stamper) = PBFTRecovery.recover(
            id: selfReplica, options: options, txidWindow: pbft.txidWindow, height: tip.height, lastHash: tip.lastHash,
            previousHash: tip.previousHash, lastBlock: tip.lastBlock, chainTxids: tip.recentTxids, records: stored)
        recovered = (replica, assembler, stamper)
        if !stored.isEmpty {
            logger.notice("pbft: restored \(stored.count) records from \(store.directory): view \(replica.view), low watermark \(replica.lowWatermark)")
        }
        logger.info("pbft: replica \(selfReplica) of \(options.n) (f \(options.f), quorum \(options.quorum), K \(options.k), L \(options.logSize)); ledger \(bringUp.blocksPath): height \(tip.height), last sequence \(replica.lastExecuted)")
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

    /// TLS on: this replica signs its VIEW-CHANGEs with its TLS key and checks everyone's.
    private static func signatures(_ config: PeerConfig, selfReplica: UInt64, replicaNames: [String]) throws -> PBFTSignatures? {
        guard config.tls.enabled else { return nil }
        let signer = try MessageSigner(keyFile: config.tls.keyFile)
        // Its own TLS context: the root CA that carried certificates must chain to, as the links'.
        let trust = try TLSContext(config.tls, expectedName: config.peerID)
        guard let signatures = PBFTSignatures(signer: signer, trust: trust, selfReplica: selfReplica, replicaNames: replicaNames) else {
            throw ConfigError(key: "peer.tls.cert.file", reason: "'\(config.tls.certFile)' holds no usable PEM certificate")
        }
        return signatures
    }

    public var chainHeight: UInt64 { ledger.durableHeight }

    public var failedHealthChecks: [String] { metrics.failedHealthChecks(quorum: settings.options.quorum) + ledger.writer.failedHealthChecks }

    public func writeMetrics(to text: inout String) {
        metrics.write(to: &text)
        ledger.writer.writeMetrics(to: &text)
        recordWriter.writeMetrics(to: &text)
    }

    public func start(_ context: FanContext) throws {
        guard let (replica, assembler, stamper) = recovered else { return }
        recovered = nil
        let host = PBFTHost(settings: settings, replica: replica, assembler: assembler, stamper: stamper, network: context.communicator,
                            clock: SystemClock(), ledger: ledger, records: recordWriter, signatures: signatures,
                            byzantine: byzantine, metrics: metrics, logger: logger)
        self.host = host
        ledger.writer.onDurable = { [weak self] in
            guard let self else { return }
            context.queue.async { self.host?.ledgerSettled() }
        }
        recordWriter.onDurable = { [weak self] in
            guard let self else { return }
            context.queue.async { self.host?.recordsSettled() }
        }
        let timer = DispatchSource.makeTimerSource(queue: context.queue)
        timer.schedule(deadline: .now() + .nanoseconds(Int(Self.tickNanos)), repeating: .nanoseconds(Int(Self.tickNanos)))
        timer.setEventHandler { [weak self] in self?.host?.tick() }
        timer.resume()
        ticker = timer
    }

    public func recvMsg(_ message: consuming Message, from sender: PeerID) {
        host?.receive(message, from: sender)
    }

    /// The records the whole burst readied go to the record writer (one
    /// fdatasync for them and for whatever else it is handed meanwhile); the
    /// sends wait for it, the fan does not.
    public func endOfBurst() { host?.flush() }

    /// Shutdown: what is committed is written and answered; clients still waiting get FAILURE.
    public func stop() {
        ticker?.cancel()
        if let host { host.stop() } else { recordWriter.finish(); ledger.finish() }
    }
}
