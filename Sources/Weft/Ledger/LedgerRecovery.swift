import Foundation
import Glibc
import Logging

/// Start-up of a peer's ledger, reading its tail, not the chain: the block
/// index's last entries are checked against the block file, the records
/// after the index's end are checked fully (torn tail cut off, damage
/// refused) and indexed, the txid index is caught up from its last sync, and
/// the tip is read back from the end. Start time and memory do not grow with
/// the chain; a missing or damaged index is rebuilt from the block file (the
/// one case that reads it all), with a log line saying so.
struct LedgerRecovery {
    /// Index entries checked against the block file at start.
    static let checkedTail: UInt64 = 8

    let blocksPath: String
    let indexPath: String
    let txidsPath: String
    let logger: Logger

    init(directory: String, logger: Logger) {
        blocksPath = (directory as NSString).appendingPathComponent("blocks")
        indexPath = (directory as NSString).appendingPathComponent("index")
        txidsPath = (directory as NSString).appendingPathComponent("txids")
        self.logger = logger
    }

    struct Recovered {
        let blockIndex: BlockIndex
        let txids: TxidIndex
        let records: BlockRecordReader
        /// Where the block file's valid records end (the next append goes there).
        let end: Int
        let tip: LedgerTip
    }

    func recover(recentTxidCount: Int) throws -> Recovered {
        try FileManager.default.createDirectory(atPath: (blocksPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let blocks = try FileIO.open(blocksPath, O_RDWR | O_CREAT)!
        defer { blocks.close() }
        try blocks.sync()     // what the file holds is durable before anything indexes it
        guard let records = try BlockRecordReader(path: blocksPath) else { throw BlockFile.LedgerError.io("cannot open \(blocksPath)") }
        var (index, damage) = try openIndex(records: records, blockFileSize: try blocks.size())
        var end = try indexTail(index, blocks: blocks, records: records)
        let tip: LedgerTip
        do {
            tip = try LedgerTip.read(index: index, records: records, height: try index.count(), recentTxidCount: recentTxidCount)
        } catch let mismatch as LedgerTip.IndexMismatch {
            damage = "ledger index \(indexPath): \(mismatch)"
            try index.reset()
            end = try indexTail(index, blocks: blocks, records: records)
            tip = try LedgerTip.read(index: index, records: records, height: try index.count(), recentTxidCount: recentTxidCount)
        }
        if let damage { logger.warning("\(damage): rebuilt it from the block file (\(tip.height) blocks)") }
        try index.sync()
        let txids = try catchUpTxids(index: index, records: records, height: tip.height)
        return Recovered(blockIndex: index, txids: txids, records: records, end: end, tip: tip)
    }

    /// The block index, emptied (to be rebuilt) when missing or when its last entries do not match the block file.
    private func openIndex(records: BlockRecordReader, blockFileSize: Int) throws -> (BlockIndex, String?) {
        guard let index = try BlockIndex.open(path: indexPath, writable: true) else {
            let index = try BlockIndex.create(path: indexPath)
            return (index, blockFileSize > 0 ? "ledger index \(indexPath) is missing" : nil)
        }
        if let problem = try index.headerProblem() ?? tailProblem(index, records: records, blockFileSize: blockFileSize) {
            try index.reset()
            return (index, "ledger index \(indexPath): \(problem)")
        }
        try index.truncate(to: try index.count())      // a partly written last entry (a crash) goes
        return (index, nil)
    }

    /// Why the index's last entries are not the block file's last indexed records, or nil.
    private func tailProblem(_ index: BlockIndex, records: BlockRecordReader, blockFileSize: Int) throws -> String? {
        let count = try index.count()
        let first = count > Self.checkedTail ? count - Self.checkedTail : 0
        let from = first > 0 ? first - 1 : 0
        let entries = try index.entries(from: from, count: Int(count - from))
        for (i, entry) in entries.enumerated() {
            let number = from + UInt64(i)
            let expectedOffset = i > 0 ? entries[i - 1].end : (number == 0 ? 0 : entry.offset)
            guard entry.offset == expectedOffset else { return "entry \(number) does not follow the one before it" }
            guard entry.end <= blockFileSize, try records.body(entry) != nil else {
                return "entry \(number) does not match the block file"
            }
        }
        return nil
    }

    /// Checks and indexes the records after the index's end; cuts a torn or
    /// garbage tail off; throws on damage (a good record after a bad one).
    /// Returns where the valid records end.
    private func indexTail(_ index: BlockIndex, blocks: FileIO, records: BlockRecordReader) throws -> Int {
        var height = try index.count()
        var start = 0
        var previousHash: [UInt8] = []
        if height > 0, let last = try index.entry(height - 1), let bytes = try records.body(last) {
            start = last.end
            previousHash = SHA256.hash(bytes)
        }
        let size = try blocks.size()
        var scanner = BlockTailScanner(file: blocks, size: size, from: start, previousHash: previousHash)
        var pending: [BlockIndex.Entry] = []
        while let found = try scanner.next() {
            pending.append(found.entry)
            if pending.count == 4096 {
                try index.write(pending, from: height)
                height += UInt64(pending.count)
                pending = []
            }
        }
        try index.write(pending, from: height)
        height += UInt64(pending.count)
        if let problem = scanner.problem {
            if let later = try scanner.laterValidRecord() {
                throw BlockFile.LedgerError.corrupt(path: blocksPath, offset: scanner.offset, reason: "\(problem); a valid block follows at offset \(later)")
            }
            try blocks.truncate(to: scanner.offset)
            try blocks.sync()
            logger.warning("ledger \(blocksPath): \(problem) at offset \(scanner.offset); truncated \(size - scanner.offset) bytes, keeping \(height) blocks")
        }
        return scanner.offset
    }

    /// The txid index, with every block below `height` in it: from its last
    /// sync on, or rebuilt when missing, damaged or made for another chain.
    private func catchUpTxids(index: BlockIndex, records: BlockRecordReader, height: UInt64) throws -> TxidIndex {
        var txids: TxidIndex
        var rebuilt: String?
        do {
            if let existing = try TxidIndex.open(path: txidsPath, writable: true) {
                txids = existing
                if existing.syncedHeight > height {
                    rebuilt = "it covers \(existing.syncedHeight) blocks, the chain has \(height)"
                } else if existing.syncedHeight > 0, try index.entry(existing.syncedHeight - 1)?.crc != existing.syncedTipCRC {
                    rebuilt = "it was made for another chain (block \(existing.syncedHeight - 1) differs)"
                }
            } else {
                txids = try TxidIndex.create(path: txidsPath)
                if height > 0 { rebuilt = "it is missing" }
            }
        } catch let damaged as TxidIndex.Damaged {
            txids = try TxidIndex.create(path: txidsPath)
            rebuilt = damaged.reason
        }
        if rebuilt != nil, txids.syncedHeight > 0 || txids.entries > 0 { txids = try TxidIndex.create(path: txidsPath) }
        var number = min(txids.syncedHeight, height)
        while number < height {
            let entries = try index.entries(from: number, count: Int(min(256, height - number)))
            guard !entries.isEmpty else { throw LedgerTip.IndexMismatch(number: number) }
            for entry in entries {
                guard let bytes = try records.body(entry), let blockTxids = BlockTxids.of(bytes) else {
                    throw LedgerTip.IndexMismatch(number: number)
                }
                for txid in blockTxids { try txids.insert(txid, block: number) }
                number += 1
            }
        }
        try txids.markSynced(height: height, lastBlockCRC: height > 0 ? try index.entry(height - 1)?.crc ?? 0 : 0)
        if let rebuilt { logger.warning("ledger txid index \(txidsPath): \(rebuilt): rebuilt it from the block file (\(height) blocks)") }
        return txids
    }
}
