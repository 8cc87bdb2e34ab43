/// Fills a txid table twice the size of another (`TxidIndex.grow`) a region at
/// a time: a region's entries are placed in memory by linear probing and the
/// region is written with one pwrite, where inserting entry by entry cost a
/// read and a write per entry (issue 24: with the doublings, as many entries
/// are copied as are ever inserted; the copies and the inserts were ~19 % of a
/// PBFT primary's samples). Memory stays bounded by one region.
///
/// An entry's home in the bigger table (its digest's low bits) is its home in
/// the smaller one, or that plus the smaller's slot count. So the region
/// [start, start + R) of the bigger table takes its entries from the smaller
/// one's slots from `start` modulo its slot count, R of them, and on to the
/// end of the cluster there (an entry sits at or after its home, with no empty
/// slot between). Entries that run past a region's end are placed first in the
/// next one; those past the table's end are handed back, to be inserted
/// (probing on from slot 0) once every region is written.
struct TxidTableRegions {
    /// Slots placed in memory at a time (1 MiB written at once).
    static let regionSlots: UInt64 = 1 << 16

    private let source: TxidIndex
    private let target: TxidIndex
    private let sourceSlots: UInt64
    private let targetSlots: UInt64
    private let regionSlots: UInt64

    init(from source: TxidIndex, into target: TxidIndex, regionSlots: UInt64 = Self.regionSlots) {
        precondition(target.slotCount == 2 * source.slotCount && regionSlots > 0)
        self.regionSlots = regionSlots
        self.source = source
        self.target = target
        sourceSlots = source.slotCount
        targetSlots = target.slotCount
    }

    /// Writes every region; returns the entries that ran past the table's end (digest, block).
    func fill() throws -> [(UInt64, UInt64)] {
        let size = min(regionSlots, targetSlots)
        var carried: [(UInt64, UInt64)] = []
        var start: UInt64 = 0
        while start < targetSlots {
            var region = Region(start: start, count: size)
            for (digest, block) in carried { region.place(digest, block, at: 0) }
            try visitSource(from: start % sourceSlots, count: min(size, sourceSlots)) { digest, block in
                let home = digest & (targetSlots - 1)
                if home >= start && home < start + size { region.place(digest, block, at: home - start) }
            }
            try target.file.writeInPages(region.bytes(), at: TxidIndex.headerSize + Int(start) * TxidIndex.slotSize)
            carried = region.overflow
            start += size
        }
        return carried
    }

    /// The occupied slots of `count` source slots from `first`, then on (wrapping) to the first empty one.
    private func visitSource(from first: UInt64, count: UInt64, _ visit: (UInt64, UInt64) -> Void) throws {
        var slot = first
        var seen: UInt64 = 0
        while seen < sourceSlots {
            let wanted = seen < count ? min(count - seen, sourceSlots - slot) : min(4, sourceSlots - slot)
            let bytes = try source.file.read(at: TxidIndex.headerSize + Int(slot) * TxidIndex.slotSize, count: Int(wanted) * TxidIndex.slotSize)
            guard bytes.count == Int(wanted) * TxidIndex.slotSize else { throw TxidIndex.Damaged(reason: "it is shorter than its header says") }
            for i in 0..<Int(wanted) {
                let digest = BigEndian.uint64(bytes, i * TxidIndex.slotSize)
                if digest == 0 && seen + UInt64(i) >= count { return }   // the cluster past the window ended
                if digest != 0 { visit(digest, BigEndian.uint64(bytes, i * TxidIndex.slotSize + 8)) }
            }
            seen += wanted
            slot = (slot + wanted) % sourceSlots
        }
    }

    /// One region of the target in memory.
    private struct Region {
        let start: UInt64
        private var digests: [UInt64]
        private var blocks: [UInt64]
        /// Placed past the region's end: for the next one.
        private(set) var overflow: [(UInt64, UInt64)] = []

        init(start: UInt64, count: UInt64) {
            self.start = start
            digests = [UInt64](repeating: 0, count: Int(count))
            blocks = digests
        }

        /// Into the first empty slot at or after `offset` (linear probing), or the overflow.
        mutating func place(_ digest: UInt64, _ block: UInt64, at offset: UInt64) {
            var at = Int(offset)
            while at < digests.count && digests[at] != 0 { at += 1 }
            guard at < digests.count else { overflow.append((digest, block)); return }
            digests[at] = digest
            blocks[at] = block
        }

        /// The slots as the file holds them (big-endian digest, block; an empty slot all zeros).
        func bytes() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: digests.count * TxidIndex.slotSize)
            out.withUnsafeMutableBytes { raw in
                for i in 0..<digests.count where digests[i] != 0 {
                    raw.storeBytes(of: digests[i].bigEndian, toByteOffset: i * TxidIndex.slotSize, as: UInt64.self)
                    raw.storeBytes(of: blocks[i].bigEndian, toByteOffset: i * TxidIndex.slotSize + 8, as: UInt64.self)
                }
            }
            return out
        }
    }
}
