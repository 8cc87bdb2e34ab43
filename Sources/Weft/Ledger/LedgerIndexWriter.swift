/// Keeps the block index and the txid index up with the block file, on the
/// ledger queue, for blocks that are already fsynced: a reader that finds a
/// block or a txid through them finds a durable block.
final class LedgerIndexWriter {
    /// Both indexes are synced every this many blocks (and at shutdown): a
    /// restart re-reads at most that many blocks to catch them up.
    static let syncEvery: UInt64 = 1024

    struct Written {
        let entry: BlockIndex.Entry
        let txids: [String]
    }

    let blocks: BlockIndex
    let txids: TxidIndex
    private(set) var height: UInt64
    private var lastCRC: UInt32
    private var sinceSync: UInt64 = 0

    init(blocks: BlockIndex, txids: TxidIndex, height: UInt64, lastCRC: UInt32) {
        self.blocks = blocks
        self.txids = txids
        self.height = height
        self.lastCRC = lastCRC
    }

    /// Indexes blocks `height`, `height + 1`, ... (fsynced in the block file already).
    func add(_ written: [Written]) throws {
        guard let last = written.last else { return }
        try blocks.write(written.map(\.entry), from: height)
        for (i, block) in written.enumerated() {
            for txid in block.txids { try txids.insert(txid, block: height + UInt64(i)) }
        }
        height += UInt64(written.count)
        lastCRC = last.entry.crc
        sinceSync += UInt64(written.count)
        if sinceSync >= Self.syncEvery { try sync() }
    }

    func sync() throws {
        try blocks.sync()
        try txids.markSynced(height: height, lastBlockCRC: lastCRC)
        sinceSync = 0
    }
}
