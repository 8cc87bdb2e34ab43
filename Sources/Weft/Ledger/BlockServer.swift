import Foundation
import Glibc

/// Where each block of the ledger file starts, so blocks can be served by
/// number (SYNC_GET_BLOCKS) without scanning the file: the record layout is
/// fixed (`BlockFile.recordHeader` + body), so appending a body of known
/// length predicts the next offset. Reads go through a descriptor of its own.
final class LedgerIndex {
    private let fd: Int32
    private var offsets: [Int] = []
    private var lengths: [Int] = []
    private var end: Int

    init(path: String, recovered: BlockFile.Scan) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BlockFile.LedgerError.io("cannot open \(path) to serve blocks: \(String(cString: strerror(errno)))") }
        for record in recovered.records {
            offsets.append(record.offset)
            lengths.append(record.bytes.count)
        }
        end = recovered.validEnd
    }

    deinit { close(fd) }

    var count: Int { offsets.count }

    /// Records the next block appended to the file.
    func appended(length: Int) {
        offsets.append(end)
        lengths.append(length)
        end += BlockFile.recordHeader + length
    }

    /// The encoded block `number`, read back from the file; nil if it is not there (yet).
    func block(_ number: Int) -> [UInt8]? {
        guard number >= 0, number < offsets.count else { return nil }
        var bytes = [UInt8](repeating: 0, count: lengths[number])
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offsets[number] + BlockFile.recordHeader)) }
        return n == lengths[number] ? bytes : nil
    }
}

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
