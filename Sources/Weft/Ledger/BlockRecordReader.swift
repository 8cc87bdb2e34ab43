import Foundation
import Glibc

/// Reads block records from the block file by their index entries: one read
/// a block, checked (marker, length and CRC as the entry says), so a stale or
/// damaged entry is noticed, never served.
final class BlockRecordReader: @unchecked Sendable {
    let file: FileIO

    /// Opens the block file read-only; nil if there is none.
    init?(path: String) throws {
        guard let file = try FileIO.open(path, O_RDONLY) else { return nil }
        self.file = file
    }

    deinit { file.close() }

    /// The block's encoded bytes; nil when the file does not hold the record the entry describes.
    func body(_ entry: BlockIndex.Entry) throws -> [UInt8]? {
        guard entry.length <= BlockFile.maxBlockBytes else { return nil }
        let record = try file.read(at: entry.offset, count: BlockFile.recordHeader + entry.length)
        guard record.count == BlockFile.recordHeader + entry.length,
              record[0] == BlockFile.magic[0], record[1] == BlockFile.magic[1],
              record[2] == BlockFile.magic[2], record[3] == BlockFile.magic[3],
              BigEndian.uint32(record, 4) == UInt32(entry.length), BigEndian.uint32(record, 8) == entry.crc else { return nil }
        let body = Array(record[BlockFile.recordHeader...])
        return CRC32C.checksum(body) == entry.crc ? body : nil
    }
}
