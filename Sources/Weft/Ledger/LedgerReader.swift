import Foundation
import Glibc

/// Reads a peer's ledger, `<dataDirectory>/ledger/`, while the peer may be
/// appending to it: only the durable prefix is visible (PROTOCOL.md section 5).
/// Not thread-safe: one instance per thread.
public final class LedgerReader {
    public let blocksPath: String
    private let blocks: Int32
    /// Where each complete record read so far starts, and its body's length.
    private var records: [(offset: Int, length: Int)] = []
    private var scannedEnd = 0

    /// `dataDirectory`: the peer's `peer.fileSystemPath`.
    public init(dataDirectory: String) throws {
        blocksPath = (dataDirectory as NSString).appendingPathComponent("ledger/blocks")
        blocks = open(blocksPath, O_RDONLY | O_CLOEXEC)
        guard blocks >= 0 else {
            throw BlockFile.LedgerError.io("cannot open \(blocksPath): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(blocks) }

    public func chainInfo() throws -> ChainInfo {
        let height = try durableHeight()
        guard height > 0, let last = try blockBytes(height - 1) else {
            return ChainInfo(height: 0, currentBlockHash: [], previousBlockHash: [])
        }
        let block = try Protos_Block(serializedBytes: last)
        return ChainInfo(height: height, currentBlockHash: SHA256.hash(last), previousBlockHash: [UInt8](block.previousBlockHash))
    }

    /// The block `number`; nil past the durable height.
    public func block(_ number: UInt64) throws -> Protos_Block? {
        guard let bytes = try blockBytes(number) else { return nil }
        return try Protos_Block(serializedBytes: bytes)
    }

    /// The encoded block `number`, as stored; nil past the durable height.
    public func blockBytes(_ number: UInt64) throws -> [UInt8]? {
        guard number < (try durableHeight()) else { return nil }
        let record = records[Int(number)]
        return try read(at: record.offset + BlockFile.recordHeader, count: record.length)
    }

    /// The first transaction in the chain with this txid, and its block's number.
    public func transaction(txid: String) throws -> (blockNumber: UInt64, transaction: Protos_Transaction)? {
        let height = try durableHeight()
        for number in 0..<height {
            guard let block = try block(number) else { return nil }
            if let tx = block.transactions.first(where: { $0.txid == txid }) { return (number, tx) }
        }
        return nil
    }

    /// The number of complete, CRC-checked records (read on from where the last call stopped).
    public func durableHeight() throws -> UInt64 {
        while let header = try? read(at: scannedEnd, count: BlockFile.recordHeader),
              Array(header[0..<4]) == BlockFile.magic {
            let length = Int(BlockFile.be32(header, 4))
            guard length <= BlockFile.maxBlockBytes,
                  let body = try? read(at: scannedEnd + BlockFile.recordHeader, count: length),
                  CRC32C.checksum(body) == BlockFile.be32(header, 8) else { break }
            records.append((scannedEnd, length))
            scannedEnd += BlockFile.recordHeader + length
        }
        return UInt64(records.count)
    }

    private func read(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(blocks, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BlockFile.LedgerError.io("read \(blocksPath) at \(offset + done): \(n == 0 ? "end of file" : String(cString: strerror(errno)))") }
            done += n
        }
        return bytes
    }
}
