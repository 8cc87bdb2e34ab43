import Foundation
import Logging

/// A consenter's ledger, opened: recovery read the tail (`LedgerRecovery`),
/// then the writer (appends, fsyncs, indexes), the block server (answers
/// SYNC_GET_BLOCKS) and what the chain ends with (`tip`). One call for every
/// consenter that keeps a ledger.
struct LedgerBringUp {
    /// `<peer.fileSystemPath>/ledger/blocks`.
    let blocksPath: String
    let writer: LedgerWriter
    let blockServer: BlockServer
    let tip: LedgerTip

    /// `recentTxids`: how many of the chain's last txids the consenter needs (`tip.recentTxids`).
    init(fileSystemPath: String, groupCommitNanos: UInt64, blocksPerRequest: Int, recentTxids: Int = 0, logger: Logger) throws {
        let directory = (fileSystemPath as NSString).appendingPathComponent("ledger")
        let recovery = LedgerRecovery(directory: directory, logger: logger)
        let recovered = try recovery.recover(recentTxidCount: recentTxids)
        blocksPath = recovery.blocksPath
        tip = recovered.tip
        let lastCRC = tip.height > 0 ? try recovered.blockIndex.entry(tip.height - 1)?.crc ?? 0 : 0
        let indexes = LedgerIndexWriter(blocks: recovered.blockIndex, txids: recovered.txids, height: tip.height, lastCRC: lastCRC)
        let file = try BlockFile(path: blocksPath, end: recovered.end) { logger.warning("ledger: \($0)") }
        // What was read may be only in the page cache (the last process died between a
        // write and its fsync): make it durable before anything is announced from it.
        try file.sync()
        writer = LedgerWriter(file: file, indexes: indexes, groupCommitNanos: groupCommitNanos)
        blockServer = BlockServer(index: recovered.blockIndex, records: recovered.records, blocksPerRequest: blocksPerRequest)
    }
}
