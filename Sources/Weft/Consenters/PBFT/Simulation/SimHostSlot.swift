import Logging

/// One simulated validator: its disk and clock, which outlive its process,
/// and the process itself (a real `PBFTHost` over a real `PBFTReplica`) while
/// it is up. Each boot rebuilds the replica from what the disk kept, as the
/// real adapter does (`PBFTRecovery`).
final class SimHostSlot {
    let id: Int
    let name: String
    let disk = SimDisk()
    let clock: SimClock
    /// The millisecond within each tick at which this host ticks.
    let tickPhase: Int
    private(set) var incarnation = SimIncarnation(number: 0)
    private(set) var host: PBFTHost?
    private(set) var ledger: SimLedger?
    private(set) var store: SimRecordStore?
    /// When the writer's pending blocks are written and fsynced.
    var flushAt: UInt64?
    /// When the record writer's pending records are written and fsynced.
    var recordsFlushAt: UInt64?
    /// The next flush (of blocks or of records) dies between the write and the fsync (true: with a power loss).
    var crashAtFlush: Bool?
    /// A crash planned at a step (`SimIncarnation.countdown`) loses power too.
    var plannedPowerLoss = false
    /// Armed by a `crash-after-new-view` fault: the process dies this many effects after it sends a NEW-VIEW.
    var crashAfterNewView: Int?
    /// Down for good (a `lost-view-changes` fault that leaves the next primary down): never restarted,
    /// not even when the faults stop; liveness is then judged over the replicas that are up.
    var leftDown = false

    init(id: Int, clock: SimClock, tickPhase: Int) {
        self.id = id
        name = "vp\(id)"
        self.clock = clock
        self.tickPhase = tickPhase
    }

    var isUp: Bool { host != nil }

    /// Starts a new process from the disk.
    /// `keys`: its VIEW-CHANGE keys (nil: unsigned, as a cluster without TLS).
    func boot(settings: PBFTHostSettings, txidWindow: Int, keys: ViewChangeKeys?, network: SimNetwork, trace: SimTrace) {
        incarnation = SimIncarnation(number: incarnation.number + 1)
        // As the real stores do when they open (PBFTStore.load, LedgerBringUp): what the
        // last process wrote but did not fsync is made durable before anything acts on it.
        disk.syncRecords()
        disk.syncBlocks()
        let blocks = disk.blocks
        let decoded = blocks.map { (try? Protos_Block(serializedBytes: $0)) ?? Protos_Block() }
        let records = disk.records
        let (replica, assembler, stamper) = PBFTRecovery.recover(
            id: UInt64(id), options: settings.options, txidWindow: txidWindow, height: UInt64(blocks.count),
            lastHash: blocks.last.map(SHA256.hash) ?? [], previousHash: blocks.count >= 2 ? SHA256.hash(blocks[blocks.count - 2]) : [],
            lastBlock: decoded.last, chainTxids: decoded.lazy.flatMap { $0.transactions.lazy.map(\.txid) }, records: records)
        let ledger = SimLedger(disk: disk, incarnation: incarnation, blocksPerRequest: settings.blocksPerRequest)
        let store = SimRecordStore(disk: disk, incarnation: incarnation)
        let who = name
        let logger = Logger(label: name) { _ in SimLogHandler(trace: trace, who: who) }
        host = PBFTHost(settings: settings, replica: replica, assembler: assembler, stamper: stamper,
                        network: SimCommunicator(host: id, network: network, incarnation: incarnation),
                        clock: clock, ledger: ledger, records: store,
                        signatures: keys.map { PBFTSignatures(keys: $0, selfReplica: UInt64(id)) }, byzantine: nil,
                        metrics: PBFTMetrics(), logger: logger)
        self.ledger = ledger
        self.store = store
        flushAt = nil
        recordsFlushAt = nil
        crashAtFlush = nil
        plannedPowerLoss = false
        trace.note(name, "boot #\(incarnation.number): height \(blocks.count), \(records.count) records, view \(replica.view), h \(replica.lowWatermark), last executed \(replica.lastExecuted)")
    }

    /// The process dies (its queued blocks and unsent messages with it); a power loss takes the page cache too.
    func crash(powerLoss: Bool) {
        incarnation.kill()
        host = nil
        ledger = nil
        store = nil
        flushAt = nil
        recordsFlushAt = nil
        crashAtFlush = nil
        if powerLoss { disk.powerLoss() }
    }

    /// The host stopped taking part (a record or block write failed): only a restart helps.
    var hasFailed: Bool {
        guard let host else { return false }
        return host.storeFailure != nil || store?.failure != nil || ledger?.failure != nil
    }
}
