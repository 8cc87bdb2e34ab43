import Foundation
import Glibc

/// Answers SYNC_GET_BLOCKS from this validator's ledger (PROTOCOL.md section
/// 9), whatever its consenter: the durable blocks of the range asked for,
/// from its start, at most `blocksPerRequest`.
final class BlockServer {
    let index: LedgerIndex
    let blocksPerRequest: Int

    init(path: String, recovered: BlockFile.Scan, blocksPerRequest: Int) throws {
        index = try LedgerIndex(path: path, recovered: recovered)
        self.blocksPerRequest = blocksPerRequest
    }

    /// The next block appended to the file (call in append order).
    func appended(length: Int) { index.appended(length: length) }

    /// The SYNC_BLOCKS answer to a SYNC_GET_BLOCKS payload; nil if it does not decode.
    func answer(_ request: [UInt8], durableHeight: UInt64) -> Message? {
        guard let range = try? Protos_SyncBlockRange(serializedBytes: request) else { return nil }
        var answer = Protos_SyncBlocks()
        answer.range = range
        var number = range.start
        while number <= range.end, number < durableHeight, answer.blocks.count < blocksPerRequest,
              let bytes = index.block(Int(number)), let block = try? Protos_Block(serializedBytes: bytes) {
            answer.blocks.append(block)
            number += 1
        }
        answer.range.end = answer.blocks.isEmpty ? range.start : number - 1
        guard let payload: [UInt8] = try? answer.serializedBytes() else { return nil }
        return Message(type: .syncBlocks, payload: payload)
    }
}
