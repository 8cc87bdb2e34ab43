/// `PBFTRecordStore` over a simulated disk, with `RecordWriter`'s behaviour:
/// submitted records wait in the process (lost if it dies), the world's clock
/// decides when the writer writes them to the page cache and fsyncs (after a
/// simulated latency, `SimWorld.flushRecords`), then the host is told
/// (`recordsSettled`). After one failure nothing more is ever durable.
final class SimRecordStore: PBFTRecordStore {
    let disk: SimDisk
    let incarnation: SimIncarnation
    private(set) var syncs = 0
    private(set) var durableTicket: UInt64 = 0
    private(set) var failure: String?
    private var submitted: UInt64 = 0
    /// Submitted, not yet written, and the last ticket among them.
    private var queued: [(key: String, value: [UInt8]?)] = []
    private var queuedThrough: UInt64 = 0
    /// Written to the page cache, not yet fsynced.
    private var writtenThrough: UInt64 = 0

    init(disk: SimDisk, incarnation: SimIncarnation) {
        self.disk = disk
        self.incarnation = incarnation
    }

    /// Records the writer has yet to write or sync.
    var pending: Bool { failure == nil && queuedThrough > durableTicket }

    func submit(_ records: [(key: String, value: [UInt8]?)]) -> UInt64 {
        submitted += 1
        guard incarnation.effect() else { return submitted }   // the process dies here: never written
        queued += records
        queuedThrough = submitted
        return submitted
    }

    /// The writer's first half: the queued records go to the page cache (a full disk fails them all).
    func write() {
        guard failure == nil, queuedThrough > writtenThrough else { return }
        if disk.full && queued.contains(where: { $0.value != nil }) {
            failure = "\(SimDiskError.full)"
            queued = []
            return
        }
        for (key, value) in queued { disk.writeRecord(key, value) }
        queued = []
        writtenThrough = queuedThrough
    }

    /// The second half: fdatasync, then everything written is durable.
    func sync() {
        guard failure == nil, writtenThrough > durableTicket else { return }
        syncs += 1
        disk.syncRecords()
        durableTicket = writtenThrough
    }

    func finish() {
        write()
        sync()
    }
}
