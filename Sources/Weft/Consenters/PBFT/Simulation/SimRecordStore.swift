/// `PBFTRecordStore` over a simulated disk: a record is in the page cache once
/// applied (as PBFTStore's write+rename) and durable only after `sync()`.
final class SimRecordStore: PBFTRecordStore {
    let disk: SimDisk
    let incarnation: SimIncarnation
    private(set) var syncs = 0

    init(disk: SimDisk, incarnation: SimIncarnation) {
        self.disk = disk
        self.incarnation = incarnation
    }

    func apply(key: String, value: [UInt8]?) throws {
        guard incarnation.effect() else { throw SimDiskError.crashed }
        if disk.full && value != nil { throw SimDiskError.full }
        disk.writeRecord(key, value)
    }

    /// Every record applied so far is durable (one fsync for the lot).
    func sync() throws {
        guard incarnation.effect() else { throw SimDiskError.crashed }
        syncs += 1
        disk.syncRecords()
    }
}
