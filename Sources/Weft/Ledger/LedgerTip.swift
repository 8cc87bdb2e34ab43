import Foundation

/// What a consenter needs of the chain at start: its height, the last
/// block (its hash, its previousBlockHash, its metadata) and the txids of the
/// last transactions in chain order. Read from the end of the ledger back,
/// never the whole chain.
struct LedgerTip {
    let height: UInt64
    let lastHash: [UInt8]
    let previousHash: [UInt8]
    let lastBlock: Protos_Block?
    /// The last `recentTxidCount` txids (fewer if the chain has fewer), oldest first.
    let recentTxids: [String]

    static let empty = LedgerTip(height: 0, lastHash: [], previousHash: [], lastBlock: nil, recentTxids: [])

    /// Reads blocks from `height - 1` back until it has `recentTxidCount` txids (at least the last block).
    static func read(index: BlockIndex, records: BlockRecordReader, height: UInt64, recentTxidCount: Int) throws -> LedgerTip {
        guard height > 0 else { return .empty }
        var last: (hash: [UInt8], block: Protos_Block)?
        var newestFirst: [String] = []
        var number = height
        while number > 0 && (last == nil || newestFirst.count < recentTxidCount) {
            let first = number >= 256 ? number - 256 : 0
            let entries = try index.entries(from: first, count: Int(number - first))
            guard entries.count == Int(number - first) else { throw IndexMismatch(number: number - 1) }
            for entry in entries.reversed() {
                number -= 1
                guard let bytes = try records.body(entry), let txids = BlockTxids.of(bytes) else { throw IndexMismatch(number: number) }
                if last == nil {
                    guard let block = try? Protos_Block(serializedBytes: bytes) else { throw IndexMismatch(number: number) }
                    last = (SHA256.hash(bytes), block)
                }
                for txid in txids.reversed() where newestFirst.count < recentTxidCount { newestFirst.append(txid) }
                if newestFirst.count >= recentTxidCount { break }
            }
        }
        guard let last else { throw IndexMismatch(number: height - 1) }
        return LedgerTip(height: height, lastHash: last.hash, previousHash: [UInt8](last.block.previousBlockHash),
                         lastBlock: last.block, recentTxids: newestFirst.reversed())
    }

    /// An index entry that does not describe the record the block file holds.
    struct IndexMismatch: Error, CustomStringConvertible {
        let number: UInt64
        var description: String { "index entry \(number) does not match the block file" }
    }
}
