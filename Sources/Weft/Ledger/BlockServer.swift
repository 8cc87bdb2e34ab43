import Foundation

/// Answers SYNC_GET_BLOCKS from this validator's ledger (PROTOCOL.md section
/// 9), whatever its consenter: the durable blocks of the range asked for,
/// from its start, at most `blocksPerRequest`, read through the block index.
final class BlockServer {
    let index: BlockIndex
    let records: BlockRecordReader
    let blocksPerRequest: Int

    init(index: BlockIndex, records: BlockRecordReader, blocksPerRequest: Int) {
        self.index = index
        self.records = records
        self.blocksPerRequest = blocksPerRequest
    }

    /// The SYNC_BLOCKS answer to a SYNC_GET_BLOCKS payload; nil if it does not decode.
    func answer(_ request: [UInt8], durableHeight: UInt64) -> Message? {
        guard let range = try? Protos_SyncBlockRange(serializedBytes: request) else { return nil }
        var answer = Protos_SyncBlocks()
        answer.range = range
        if range.start < durableHeight, range.start <= range.end {
            let count = Int(min(UInt64(max(1, blocksPerRequest)) - 1, durableHeight - range.start - 1, range.end - range.start) + 1)
            for entry in (try? index.entries(from: range.start, count: count)) ?? [] {
                guard let bytes = try? records.body(entry), let block = try? Protos_Block(serializedBytes: bytes) else { break }
                answer.blocks.append(block)
            }
        }
        answer.range.end = answer.blocks.isEmpty ? range.start : range.start + UInt64(answer.blocks.count) - 1
        guard let payload: [UInt8] = try? answer.serializedBytes() else { return nil }
        return Message(type: .syncBlocks, payload: payload)
    }
}
