import Foundation
import Glibc

/// The append-only block file, `<peer.fileSystemPath>/ledger/blocks`.
///
/// Each record: magic "WEFT" (4 bytes), the block's length (4, big-endian),
/// its CRC-32C (4, big-endian), then the encoded `protos.Block`. A block's
/// `previousBlockHash` is the SHA-256 of the previous block's encoded bytes.
/// The magic lets recovery tell a torn or garbage tail (nothing valid after
/// the first bad record: truncated) from damage in the middle (a valid record
/// further on: start-up refuses, naming the offset).
public final class BlockFile {
    public static let magic: [UInt8] = Array("WEFT".utf8)
    public static let recordHeader = 12
    public static let maxBlockBytes = 256 << 20

    public struct Record {
        public let offset: Int
        public let bytes: [UInt8]
        public let block: Protos_Block
    }

    /// What a scan of the file found.
    public struct Scan {
        public var records: [Record] = []
        /// Where the valid records end.
        public var validEnd = 0
        public var fileSize = 0
        /// Why the bytes after `validEnd` are not blocks (nil: there are none).
        public var tailProblem: String?
        public var height: UInt64 { forgotten?.height ?? UInt64(records.count) }
        public var lastHash: [UInt8] { forgotten?.lastHash ?? records.last.map { SHA256.hash($0.bytes) } ?? [] }
        /// Set once the records were dropped (`BlockFile.forgetRecoveredBlocks`).
        var forgotten: (height: UInt64, lastHash: [UInt8])?
        /// `lastHash` in lower-case hex (empty for an empty ledger).
        public var lastHashHex: String { lastHash.map { String(format: "%02x", $0) }.joined() }
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

    /// Reads and checks every record: CRC, decoding, hash links.
    public static func scan(path: String) throws -> Scan {
        var scan = Scan()
        guard FileManager.default.fileExists(atPath: path) else { return scan }
        guard let data = FileManager.default.contents(atPath: path) else { throw LedgerError.io("cannot read \(path)") }
        let bytes = [UInt8](data)
        scan.fileSize = bytes.count
        var offset = 0
        var previousHash: [UInt8] = []
        while offset < bytes.count {
            switch record(in: bytes, at: offset, previousHash: previousHash) {
            case .success(let record):
                scan.records.append(record)
                previousHash = SHA256.hash(record.bytes)
                offset += recordHeader + record.bytes.count
                scan.validEnd = offset
            case .failure(let problem):
                if let later = nextValidRecord(in: bytes, after: offset) {
                    throw LedgerError.corrupt(path: path, offset: offset, reason: "\(problem.text); a valid block follows at offset \(later)")
                }
                scan.tailProblem = "\(problem.text) at offset \(offset)"
                return scan
            }
        }
        return scan
    }

    struct Problem: Error { let text: String }

    /// The record at `offset`, checked, including its link to `previousHash`.
    static func record(in bytes: [UInt8], at offset: Int, previousHash: [UInt8]?) -> Result<Record, Problem> {
        let left = bytes.count - offset
        guard left >= recordHeader else { return .failure(Problem(text: "a record header cut short (\(left) bytes)")) }
        guard Array(bytes[offset..<(offset + 4)]) == magic else { return .failure(Problem(text: "no record marker")) }
        let length = Int(be32(bytes, offset + 4))
        let crc = be32(bytes, offset + 8)
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

    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    /// The record for an encoded block.
    static func encodeRecord(_ body: [UInt8]) -> [UInt8] {
        let n = UInt32(body.count), crc = CRC32C.checksum(body)
        var out = magic
        out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
        out += [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
        return out + body
    }

    // MARK: an open file

    public let path: String
    private let fd: Int32
    public private(set) var size: Int

    /// Opens for appending after recovering: a torn or garbage tail is cut off
    /// (`onTruncate` says what was cut); damage in the middle throws.
    public init(path: String, onTruncate: (String) -> Void) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let scan = try BlockFile.scan(path: path)
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        if let problem = scan.tailProblem {
            guard ftruncate(fd, off_t(scan.validEnd)) == 0, fsync(fd) == 0 else {
                throw LedgerError.io("cannot truncate \(path): \(String(cString: strerror(errno)))")
            }
            onTruncate("ledger \(path): \(problem); truncated \(scan.fileSize - scan.validEnd) bytes, keeping \(scan.records.count) blocks")
        }
        size = scan.validEnd
        recovered = scan
        guard lseek(fd, off_t(size), SEEK_SET) >= 0 else { throw LedgerError.io("cannot seek \(path)") }
    }

    /// What recovery found (the blocks kept).
    public private(set) var recovered: Scan

    /// Drops the blocks recovery read (each one's bytes and decoded form: a
    /// long chain makes them large) and keeps only the height and last hash.
    /// A consenter calls it once it took from them what start-up needs.
    public func forgetRecoveredBlocks() {
        recovered.forgotten = (recovered.height, recovered.lastHash)
        recovered.records = []
    }

    deinit { close(fd) }

    /// Writes one block's record (not yet durable: call `sync`).
    public func append(_ body: [UInt8]) throws {
        let record = BlockFile.encodeRecord(body)
        var written = 0
        while written < record.count {
            let n = record.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw LedgerError.io("write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
        size += record.count
    }

    public func sync() throws {
        guard fdatasync(fd) == 0 else { throw LedgerError.io("fdatasync \(path): \(String(cString: strerror(errno)))") }
    }
}
