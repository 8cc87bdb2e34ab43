/// One host's disk, as the simulator models it. A write lands in the page
/// cache (it survives the process being killed, not a power loss); an fsync
/// makes what is cached durable. The ledger's writer queue (blocks appended
/// but not yet written) is the process's, in `SimLedger`, and dies with it.
final class SimDisk {
    /// Blocks fsynced, then blocks written since the last fsync.
    private(set) var syncedBlocks: [[UInt8]] = []
    private(set) var cachedBlocks: [[UInt8]] = []
    /// Records as of the last sync, and the writes since (nil = a deletion), in order.
    private(set) var syncedRecords: [String: [UInt8]] = [:]
    private(set) var cachedRecords: [(key: String, value: [UInt8]?)] = []
    /// Writes fail (ENOSPC) while set.
    var full = false
    /// Bumped whenever blocks are lost (a power loss or a wipe): readers re-check from the start.
    private(set) var losses = 0

    /// What a reader (and a restart after a process kill) sees.
    var blocks: [[UInt8]] { syncedBlocks + cachedBlocks }
    var blockCount: Int { syncedBlocks.count + cachedBlocks.count }
    func block(_ index: Int) -> [UInt8] {
        index < syncedBlocks.count ? syncedBlocks[index] : cachedBlocks[index - syncedBlocks.count]
    }

    var records: [String: [UInt8]] {
        var merged = syncedRecords
        for (key, value) in cachedRecords { merged[key] = value }
        return merged
    }

    func writeBlocks(_ blocks: [[UInt8]]) { cachedBlocks += blocks }

    /// fdatasync of the block file: every block written so far is durable.
    func syncBlocks() {
        syncedBlocks += cachedBlocks
        cachedBlocks = []
    }

    func writeRecord(_ key: String, _ value: [UInt8]?) { cachedRecords.append((key, value)) }

    /// Records made durable (the record store's sync).
    func syncRecords() {
        syncedRecords = records
        cachedRecords = []
    }

    /// The power went: the page cache is gone.
    func powerLoss() {
        if !cachedBlocks.isEmpty { losses += 1 }
        cachedBlocks = []
        cachedRecords = []
    }

    /// A new, empty disk.
    func wipe() {
        syncedBlocks = []; cachedBlocks = []
        syncedRecords = [:]; cachedRecords = []
        full = false
        losses += 1
    }
}
