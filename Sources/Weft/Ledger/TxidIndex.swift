import Foundation
import Glibc

/// `<peer.fileSystemPath>/ledger/txids`: which block holds a txid, on disk, so
/// lookups survive restarts and memory stays flat however long the chain.
///
/// An open-addressing hash table of fixed 16-byte slots behind a 64-byte
/// header (PROTOCOL.md section 5): a slot is the first 8 bytes of the txid's
/// SHA-256 (0 = empty slot; a digest of 0 is stored as 1) and the block number
/// (8), big-endian; linear probing from the digest's low bits. It doubles (a
/// rehash into a new file, renamed over the old one) before it is half full,
/// so an entry costs 32 to 64 bytes of disk and nothing in memory. A digest
/// may match another txid's: a lookup reads each candidate block and checks.
final class TxidIndex {
    static let headerSize = 64
    static let slotSize = 16
    static let magic: [UInt8] = Array("WTXI".utf8) + [0, 0, 0, 1]
    /// 64 KiB: small enough for a tight RLIMIT_FSIZE (the tests run a peer under 1 MiB).
    static let initialSlots: UInt64 = 1 << 12
    /// Slots read per probe step.
    private static let probeChunk = 4

    private(set) var file: FileIO
    private(set) var slotCount: UInt64
    /// Slots in use (as far as this process knows: see `syncedHeight`).
    private(set) var entries: UInt64
    /// Every txid of the blocks below this height is in the table and on disk.
    private(set) var syncedHeight: UInt64
    /// The CRC-32C of block `syncedHeight - 1`: a table made for another chain is noticed.
    private(set) var syncedTipCRC: UInt32 = 0

    struct Damaged: Error { let reason: String }

    /// Opens the index at `path`; nil if there is none; `Damaged` if it is not a whole, valid table.
    static func open(path: String, writable: Bool) throws -> TxidIndex? {
        guard let file = try FileIO.open(path, writable ? O_RDWR : O_RDONLY) else { return nil }
        if writable { file.adviseRandomAccess() }
        do {
            return try TxidIndex(file: file)
        } catch {
            file.close()
            throw error
        }
    }

    /// An empty table of `slots` slots at `path` (written aside, synced, renamed over it).
    static func create(path: String, slots: UInt64 = initialSlots) throws -> TxidIndex {
        let building = try build(path: path + ".new", slots: slots)
        try building.publish(as: path)
        return building
    }

    private static func build(path: String, slots: UInt64) throws -> TxidIndex {
        let file = try FileIO.open(path, O_RDWR | O_CREAT | O_TRUNC)!
        // Probes and inserts go anywhere: single pages in the page cache, so an insert's
        // 16-byte write touches one page's buffers (issue 24; see FileIO.writeInPages).
        file.adviseRandomAccess()
        try file.truncate(to: headerSize + Int(slots) * slotSize)
        let index = TxidIndex(file: file, slots: slots)
        try index.writeHeader()
        return index
    }

    private init(file: FileIO, slots: UInt64) {
        self.file = file
        slotCount = slots
        entries = 0
        syncedHeight = 0
    }

    private init(file: FileIO) throws {
        self.file = file
        let header = try file.read(at: 0, count: Self.headerSize)
        guard header.count == Self.headerSize, Array(header[0..<8]) == Self.magic else { throw Damaged(reason: "its header is not WTXI version 1") }
        guard CRC32C.checksum(Array(header[0..<60])) == BigEndian.uint32(header, 60) else { throw Damaged(reason: "its header's CRC does not match") }
        slotCount = BigEndian.uint64(header, 8)
        entries = BigEndian.uint64(header, 16)
        syncedHeight = BigEndian.uint64(header, 24)
        syncedTipCRC = BigEndian.uint32(header, 32)
        guard slotCount >= 8, slotCount.nonzeroBitCount == 1, slotCount < 1 << 40 else { throw Damaged(reason: "a slot count of \(slotCount)") }
        let size = try file.size()
        guard size == Self.headerSize + Int(slotCount) * Self.slotSize else {
            throw Damaged(reason: "\(size) bytes where \(slotCount) slots take \(Self.headerSize + Int(slotCount) * Self.slotSize)")
        }
    }

    deinit { file.close() }

    static func digest(_ txid: String) -> UInt64 {
        let value = BigEndian.uint64(SHA256.hash(Array(txid.utf8)), 0)
        return value == 0 ? 1 : value
    }

    // MARK: reading

    /// The block numbers of the slots whose digest is the txid's (any order;
    /// the caller checks each block).
    func candidates(_ txid: String) throws -> [UInt64] {
        let wanted = Self.digest(txid)
        var found: [UInt64] = []
        try probe(wanted) { _, digest, block in
            if digest == wanted { found.append(block) }
            return digest == 0
        }
        return found
    }

    /// Calls `visit(slot, digest, block)` on the probe sequence of `digest`
    /// until it returns true; throws if the table has no empty slot.
    private func probe(_ digest: UInt64, _ visit: (UInt64, UInt64, UInt64) throws -> Bool) throws {
        var slot = digest & (slotCount - 1)
        var seen: UInt64 = 0
        while seen < slotCount {
            let count = Int(min(UInt64(Self.probeChunk), slotCount - slot))
            let bytes = try file.read(at: Self.headerSize + Int(slot) * Self.slotSize, count: count * Self.slotSize)
            guard bytes.count == count * Self.slotSize else { throw Damaged(reason: "it is shorter than its header says") }
            for i in 0..<count {
                if try visit(slot + UInt64(i), BigEndian.uint64(bytes, i * Self.slotSize), BigEndian.uint64(bytes, i * Self.slotSize + 8)) { return }
            }
            seen += UInt64(count)
            slot = (slot + UInt64(count)) & (slotCount - 1)
        }
        throw Damaged(reason: "no empty slot (a full table)")
    }

    // MARK: writing (the peer's ledger queue)

    /// Records that `txid` is in block `block` (nothing if that slot is already there).
    func insert(_ txid: String, block: UInt64) throws {
        if (entries + 1) * 2 > slotCount { try grow() }
        try insert(digest: Self.digest(txid), block: block)
    }

    /// Records `digest` in block `block` (grow's own path; tests).
    func insert(digest: UInt64, block: UInt64) throws {
        var free: UInt64?
        try probe(digest) { slot, found, foundBlock in
            if found == digest && foundBlock == block { return true }
            if found == 0 { free = slot }
            return found == 0
        }
        guard let free else { return }
        var bytes: [UInt8] = []
        BigEndian.append(digest, to: &bytes)
        BigEndian.append(block, to: &bytes)
        try file.write(bytes, at: Self.headerSize + Int(free) * Self.slotSize)
        entries += 1
    }

    /// Every slot into a table twice the size, which then replaces this one.
    private func grow() throws {
        let bigger = try Self.build(path: file.path + ".new", slots: slotCount * 2)
        let wrapped = try TxidTableRegions(from: self, into: bigger).fill()
        for (digest, block) in wrapped { try bigger.insert(digest: digest, block: block) }
        bigger.entries = entries
        bigger.syncedHeight = syncedHeight
        bigger.syncedTipCRC = syncedTipCRC
        try bigger.publish(as: file.path)
        swap(&file, &bigger.file)      // `bigger` now holds, and closes, the old table
        slotCount = bigger.slotCount
        entries = bigger.entries
    }

    /// Syncs the table and renames it to `path`.
    private func publish(as path: String) throws {
        try writeHeader()
        try file.sync()
        guard rename(file.path, path) == 0 else {
            throw BlockFile.LedgerError.io("rename \(file.path) to \(path): \(String(cString: strerror(errno)))")
        }
        file = FileIO(fd: file.fd, path: path)
    }

    /// Syncs the slots, then records that the blocks below `height` are all in
    /// (that header reaches the disk with the next sync).
    func markSynced(height: UInt64, lastBlockCRC: UInt32) throws {
        try file.sync()
        syncedHeight = height
        syncedTipCRC = lastBlockCRC
        try writeHeader()
    }

    private func writeHeader() throws {
        var header = Self.magic
        BigEndian.append(slotCount, to: &header)
        BigEndian.append(entries, to: &header)
        BigEndian.append(syncedHeight, to: &header)
        BigEndian.append(syncedTipCRC, to: &header)
        header += [UInt8](repeating: 0, count: 60 - header.count)
        BigEndian.append(CRC32C.checksum(header), to: &header)
        try file.write(header, at: 0)
    }
}
