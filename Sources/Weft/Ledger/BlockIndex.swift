import Foundation
import Glibc

/// `<peer.fileSystemPath>/ledger/index`: where each block's record is in the
/// block file, so a block costs two reads (its entry, its record) whatever
/// the chain's length.
///
/// An 8-byte header (`WBIX`, version 1, big-endian), then one 16-byte entry a
/// block, in block order: the record's offset in the block file (8 bytes),
/// the block's length (4) and its CRC-32C (4), all big-endian. The writer
/// appends an entry only after the block's fsync, so a reader that finds an
/// entry finds a durable block (PROTOCOL.md section 5). The file is derived
/// data: checked against the block file at start, rebuilt when it does not match.
final class BlockIndex: @unchecked Sendable {
    static let header: [UInt8] = Array("WBIX".utf8) + [0, 0, 0, 1]
    static let entrySize = 16

    struct Entry: Equatable {
        let offset: Int
        let length: Int
        let crc: UInt32

        /// Where the record after this one starts.
        var end: Int { offset + BlockFile.recordHeader + length }

        var bytes: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(BlockIndex.entrySize)
            BigEndian.append(UInt64(offset), to: &out)
            BigEndian.append(UInt32(length), to: &out)
            BigEndian.append(crc, to: &out)
            return out
        }

        init(offset: Int, length: Int, crc: UInt32) {
            self.offset = offset
            self.length = length
            self.crc = crc
        }

        init(_ bytes: [UInt8], at: Int = 0) {
            offset = Int(truncatingIfNeeded: BigEndian.uint64(bytes, at))
            length = Int(BigEndian.uint32(bytes, at + 8))
            crc = BigEndian.uint32(bytes, at + 12)
        }
    }

    let file: FileIO
    var path: String { file.path }

    /// Opens an existing index; nil if there is none. `writable`: for the peer's writer.
    static func open(path: String, writable: Bool) throws -> BlockIndex? {
        guard let file = try FileIO.open(path, writable ? O_RDWR : O_RDONLY) else { return nil }
        return BlockIndex(file: file)
    }

    /// Creates (or empties) the index at `path`.
    static func create(path: String) throws -> BlockIndex {
        let file = try FileIO.open(path, O_RDWR | O_CREAT)!
        let index = BlockIndex(file: file)
        try index.reset()
        return index
    }

    private init(file: FileIO) { self.file = file }

    deinit { file.close() }

    /// Why the header is not this format's, or nil.
    func headerProblem() throws -> String? {
        let head = try file.read(at: 0, count: Self.header.count)
        return head == Self.header ? nil : "its header is not WBIX version 1"
    }

    /// The number of whole entries (a partly written last one is not counted).
    func count() throws -> UInt64 {
        UInt64(max(0, try file.size() - Self.header.count) / Self.entrySize)
    }

    /// Entry `number`; nil past the end.
    func entry(_ number: UInt64) throws -> Entry? {
        let bytes = try file.read(at: Self.header.count + Int(number) * Self.entrySize, count: Self.entrySize)
        return bytes.count == Self.entrySize ? Entry(bytes) : nil
    }

    /// The entries `first..<first+count` that exist, in one read.
    func entries(from first: UInt64, count: Int) throws -> [Entry] {
        let bytes = try file.read(at: Self.header.count + Int(first) * Self.entrySize, count: count * Self.entrySize)
        return stride(from: 0, to: bytes.count - Self.entrySize + 1, by: Self.entrySize).map { Entry(bytes, at: $0) }
    }

    /// Writes `entries` as entries `first`, `first + 1`, ... (the writer's side).
    func write(_ entries: [Entry], from first: UInt64) throws {
        guard !entries.isEmpty else { return }
        try file.write(entries.flatMap(\.bytes), at: Self.header.count + Int(first) * Self.entrySize)
    }

    /// Keeps the first `count` entries.
    func truncate(to count: UInt64) throws {
        try file.truncate(to: Self.header.count + Int(count) * Self.entrySize)
    }

    /// Empties the index (header only).
    func reset() throws {
        try file.truncate(to: 0)
        try file.write(Self.header, at: 0)
    }

    func sync() throws { try file.sync() }
}
