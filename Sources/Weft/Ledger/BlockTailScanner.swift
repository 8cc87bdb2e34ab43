import Foundation

/// Reads the block file's records from an offset on, one at a time, checking
/// each fully (marker, length, CRC, decoding, the hash link to the block
/// before), without holding more than one record in memory.
struct BlockTailScanner {
    struct Found {
        let entry: BlockIndex.Entry
        let bytes: [UInt8]
        let block: Protos_Block
    }

    let file: FileIO
    let size: Int
    /// Where the next record starts (after a problem: where the bad bytes start).
    private(set) var offset: Int
    private var previousHash: [UInt8]
    /// What is wrong at `offset`, once `next` returned nil before the end.
    private(set) var problem: String?

    init(file: FileIO, size: Int, from offset: Int, previousHash: [UInt8]) {
        self.file = file
        self.size = size
        self.offset = offset
        self.previousHash = previousHash
    }

    /// The next good record; nil at the end of the file or at a bad record (`problem` says which).
    mutating func next() throws -> Found? {
        guard problem == nil, offset < size else { return nil }
        var bytes = try file.read(at: offset, count: min(BlockFile.recordHeader, size - offset))
        if bytes.count == BlockFile.recordHeader {
            let length = Int(BigEndian.uint32(bytes, 4))
            if length <= BlockFile.maxBlockBytes {
                bytes = try file.read(at: offset, count: min(BlockFile.recordHeader + length, size - offset))
            }
        }
        switch BlockFile.record(in: bytes, at: 0, previousHash: previousHash) {
        case .success(let record):
            let entry = BlockIndex.Entry(offset: offset, length: record.bytes.count, crc: BigEndian.uint32(bytes, 8))
            previousHash = SHA256.hash(record.bytes)
            offset = entry.end
            return Found(entry: entry, bytes: record.bytes, block: record.block)
        case .failure(let problem):
            self.problem = problem.text
            return nil
        }
    }

    /// After a problem: the offset of a well-formed record further on, if any
    /// (then the bad bytes are damage, not a torn tail). Reads the rest of the file.
    func laterValidRecord() throws -> Int? {
        let rest = try file.read(at: offset, count: size - offset)
        return BlockFile.nextValidRecord(in: rest, after: 0).map { offset + $0 }
    }
}
