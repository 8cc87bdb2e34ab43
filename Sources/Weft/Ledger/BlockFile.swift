import Foundation
import Glibc

/// The append-only block file, `<peer.fileSystemPath>/ledger/blocks`.
///
/// Each record: magic "WEFT" (4 bytes), the block's length (4, big-endian),
/// its CRC-32C (4, big-endian), then the encoded `protos.Block`. A block's
/// `previousBlockHash` is the SHA-256 of the previous block's encoded bytes.
/// The magic lets recovery tell a torn or garbage tail (nothing valid after
/// the first bad record: truncated) from damage in the middle (a valid record
/// further on: start-up refuses, naming the offset). Start-up checks only the
/// records after the block index's end (`LedgerRecovery`); `scan` and `walk`
/// check them all (`weft ledger verify`).
public final class BlockFile {
    public static let magic: [UInt8] = Array("WEFT".utf8)
    public static let recordHeader = 12
    public static let maxBlockBytes = 256 << 20
    /// Blocks reserved ahead of the appends (`Preallocation`): at 100,000 tx/s of
    /// ~200 bytes, one fallocate every ~3 s.
    static let preallocationStep = 64 << 20

    /// A block's hash, the next block's previousBlockHash: the SHA-256 of its encoded bytes.
    public static func hash(of bytes: [UInt8]) -> [UInt8] { SHA256.hash(bytes) }

    public struct Record {
        public let offset: Int
        public let bytes: [UInt8]
        public let block: Protos_Block
        /// The block's hash (SHA-256 of its encoded bytes) in lower-case hex.
        public var hashHex: String { SHA256.hex(SHA256.hash(bytes)) }
    }

    /// What a scan of the file found.
    public struct Scan {
        public var records: [Record] = []
        /// Where the valid records end.
        public var validEnd = 0
        public var fileSize = 0
        /// Why the bytes after `validEnd` are not blocks (nil: there are none).
        public var tailProblem: String?
        public internal(set) var height: UInt64 = 0
        public internal(set) var lastHash: [UInt8] = []
        /// `lastHash` in lower-case hex (empty for an empty ledger).
        public var lastHashHex: String { SHA256.hex(lastHash) }
    }

    public enum LedgerError: Error, CustomStringConvertible {
        case corrupt(path: String, offset: Int, reason: String)
        case io(String)
        public var description: String {
            switch self {
            case .corrupt(let path, let offset, let reason):
                return "ledger \(path) is corrupt at offset \(offset): \(reason) (later blocks are intact, so this is not a torn write; restore the file or move it aside)"
            case .io(let text): return "ledger: \(text)"
            }
        }
    }

    /// Reads and checks every record: CRC, decoding, hash links (all records held: see `walk`).
    public static func scan(path: String) throws -> Scan {
        var records: [Record] = []
        var scan = try walk(path: path) { records.append($0) }
        scan.records = records
        return scan
    }

    /// Reads and checks every record, one at a time, handing each to `visit`;
    /// the result says where the valid records end and why (its `records` is empty).
    public static func walk(path: String, _ visit: (Record) throws -> Void) throws -> Scan {
        var scan = Scan()
        guard let file = try FileIO.open(path, O_RDONLY) else { return scan }
        defer { file.close() }
        scan.fileSize = try file.size()
        var scanner = BlockTailScanner(file: file, size: scan.fileSize, from: 0, previousHash: [])
        var count: UInt64 = 0
        while let found = try scanner.next() {
            count += 1
            scan.lastHash = SHA256.hash(found.bytes)
            try visit(Record(offset: found.entry.offset, bytes: found.bytes, block: found.block))
        }
        scan.height = count
        scan.validEnd = scanner.offset
        if let problem = scanner.problem {
            if let later = try scanner.laterValidRecord() {
                throw LedgerError.corrupt(path: path, offset: scanner.offset, reason: "\(problem); a valid block follows at offset \(later)")
            }
            scan.tailProblem = "\(problem) at offset \(scanner.offset)"
        }
        return scan
    }

    struct Problem: Error { let text: String }

    /// The record at `offset`, checked, including its link to `previousHash`.
    static func record(in bytes: [UInt8], at offset: Int, previousHash: [UInt8]?) -> Result<Record, Problem> {
        let left = bytes.count - offset
        guard left >= recordHeader else { return .failure(Problem(text: "a record header cut short (\(left) bytes)")) }
        guard Array(bytes[offset..<(offset + 4)]) == magic else { return .failure(Problem(text: "no record marker")) }
        let length = Int(BigEndian.uint32(bytes, offset + 4))
        let crc = BigEndian.uint32(bytes, offset + 8)
        guard length <= maxBlockBytes else { return .failure(Problem(text: "a block length of \(length) bytes")) }
        guard left - recordHeader >= length else {
            return .failure(Problem(text: "a block cut short (\(left - recordHeader) of \(length) bytes)"))
        }
        let body = Array(bytes[(offset + recordHeader)..<(offset + recordHeader + length)])
        guard CRC32C.checksum(body) == crc else { return .failure(Problem(text: "a CRC mismatch")) }
        guard let block = try? Protos_Block(serializedBytes: body) else { return .failure(Problem(text: "a block that does not decode")) }
        if let previousHash, [UInt8](block.previousBlockHash) != previousHash {
            return .failure(Problem(text: "a broken hash link (previousBlockHash is not the hash of the block before)"))
        }
        return .success(Record(offset: offset, bytes: body, block: block))
    }

    /// The offset of a well-formed record (marker, length and CRC) after `offset`.
    static func nextValidRecord(in bytes: [UInt8], after offset: Int) -> Int? {
        var at = offset + 1
        while at + recordHeader <= bytes.count {
            if bytes[at] == magic[0], bytes[at + 1] == magic[1], bytes[at + 2] == magic[2], bytes[at + 3] == magic[3],
               case .success = record(in: bytes, at: at, previousHash: nil) {
                return at
            }
            at += 1
        }
        return nil
    }

    /// A big-endian UInt32 at `at` (the PBFT record log reads its records with it).
    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 { BigEndian.uint32(bytes, at) }

    /// The record for an encoded block.
    static func encodeRecord(_ body: [UInt8]) -> [UInt8] {
        var out = magic
        out.reserveCapacity(recordHeader + body.count)
        BigEndian.append(UInt32(body.count), to: &out)
        BigEndian.append(CRC32C.checksum(body), to: &out)
        return out + body
    }

    // MARK: an open file

    public let path: String
    private let fd: Int32
    public private(set) var size: Int
    private var preallocation: Preallocation

    /// Opens for appending at `end`, where recovery (`LedgerRecovery`) found the valid records to end.
    /// `report`: why the file cannot be preallocated (once).
    init(path: String, end: Int, report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.path = path
        preallocation = Preallocation(path: path, step: Self.preallocationStep, report: report)
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        size = end
        guard lseek(fd, off_t(size), SEEK_SET) >= 0 else { throw LedgerError.io("cannot seek \(path)") }
    }

    deinit { close(fd) }

    /// Writes one block's record (not yet durable: call `sync`); returns its index entry.
    @discardableResult
    func append(_ body: [UInt8]) throws -> BlockIndex.Entry {
        let record = BlockFile.encodeRecord(body)
        preallocation.reserve(fd: fd, offset: size, count: record.count)
        var written = 0
        while written < record.count {
            let n = record.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw LedgerError.io("write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
        let entry = BlockIndex.Entry(offset: size, length: body.count, crc: BigEndian.uint32(record, 8))
        size += record.count
        return entry
    }

    public func sync() throws {
        guard fdatasync(fd) == 0 else { throw LedgerError.io("fdatasync \(path): \(String(cString: strerror(errno)))") }
    }
}
