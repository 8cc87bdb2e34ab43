import Foundation
import Glibc

/// The replica's records in one append-only log, `<peer.fileSystemPath>/pbft/records.log`:
/// `apply` appends a record to a buffer, `sync` writes the buffer and makes it
/// durable with one fdatasync. Synchronous, and not thread-safe: the peer
/// calls it only from `RecordWriter`'s queue, which groups every record handed
/// over while one fdatasync runs into the next (group commit), and the host
/// sends nothing that depends on a record before its sync. So a replica that
/// loses power comes back with every record it acted on (etcd's WAL).
///
/// A record is `[length u32][CRC-32C u32][op u8][key length u16][key][value]`
/// (big-endian; op 1 puts, 0 deletes). Loading replays the log, last write
/// wins, and cuts a torn tail at the first record that does not check. The log
/// is rewritten from the live records once it is four times their size (and
/// over 8 MiB). A store of the earlier layout — one file per key, not synced —
/// is read once and folded into the log.
final class PBFTStore {
    let directory: String
    private let path: String
    private var fd: Int32 = -1
    private var pending: [UInt8] = []
    /// The records as they stand, and the log's size: when to rewrite it.
    private var live: [String: [UInt8]] = [:]
    private var liveBytes = 0
    private var logBytes = 0
    private(set) var syncs = 0
    /// Bytes made durable by `sync` (records with their headers; rewrites not counted).
    private(set) var syncedBytes = 0
    /// What `load()` found wrong and mended (a torn tail), for the host to log.
    private(set) var mended: String?

    static let fileName = "records.log"
    static let recordHeader = 8
    private static let compactAtLeast = 8 << 20
    /// Blocks reserved ahead of the appends (`Preallocation`): twice the least
    /// size at which the log is rewritten, so a log rewritten then is reserved once.
    static let preallocationStep = 2 * compactAtLeast
    private var preallocation: Preallocation

    /// `report`: why the log cannot be preallocated (once).
    init(directory: String, report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.directory = directory
        path = directory + "/" + Self.fileName
        preallocation = Preallocation(path: path, step: Self.preallocationStep, report: report)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BlockFile.LedgerError.io("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Every record stored. Call once, before `apply`.
    func load() throws -> [String: [UInt8]] {
        let legacy = try legacyRecords()
        let bytes = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        var records = legacy
        let valid = Self.replay(bytes) { key, value in records[key] = value }
        live = records
        liveBytes = records.reduce(0) { $0 + Self.recordHeader + 3 + $1.key.utf8.count + $1.value.count }
        if valid < bytes.count { mended = "cut a torn tail of \(bytes.count - valid) bytes from \(path)" }
        if !legacy.isEmpty || valid < bytes.count {
            try rewrite()   // folds the old files in, or drops the torn tail, durably
            for name in legacy.keys { unlink(directory + "/" + name) }
        } else {
            try openForAppend()
            // The records read may be only in the page cache (the last process died between
            // a write and its fdatasync): durable before the replica acts on them — a NEW-VIEW
            // resent from an unsynced record, then lost to a power loss, let the restarted
            // primary build a different one for the same view (whole-host seed 374).
            guard fdatasync(fd) == 0 else { throw Self.error("fdatasync", path) }
            logBytes = bytes.count
        }
        return records
    }

    func apply(key: String, value: [UInt8]?) throws {
        precondition(!key.isEmpty && key.utf8.count < 65_536, "PBFT record keys are short names")
        if let old = live[key] { liveBytes -= Self.recordHeader + 3 + key.utf8.count + old.count }
        live[key] = value
        if let value { liveBytes += Self.recordHeader + 3 + key.utf8.count + value.count }
        Self.encode(key: key, value: value, into: &pending)
    }

    func sync() throws {
        guard !pending.isEmpty else { return }
        if fd < 0 { try openForAppend() }
        preallocation.reserve(fd: fd, offset: logBytes, count: pending.count)
        try writeAll(fd, pending, path)
        guard fdatasync(fd) == 0 else { throw Self.error("fdatasync", path) }
        // Synced into a file no longer in the folder (removed or replaced under
        // the peer): nothing of it would be found at a restart.
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_nlink > 0 else {
            throw BlockFile.LedgerError.io("\(path) was removed or replaced while the peer ran: its records would be lost at a restart")
        }
        logBytes += pending.count
        syncedBytes += pending.count
        pending.removeAll(keepingCapacity: true)
        syncs += 1
        if logBytes > max(Self.compactAtLeast, 4 * liveBytes) { try rewrite() }
    }

    // MARK: the log

    static func encode(key: String, value: [UInt8]?, into out: inout [UInt8]) {
        var body: [UInt8] = [value == nil ? 0 : 1]
        let k = Array(key.utf8)
        body.append(UInt8(k.count >> 8)); body.append(UInt8(k.count & 0xFF))
        body += k
        if let value { body += value }
        appendBE32(UInt32(body.count), to: &out)
        appendBE32(CRC32C.checksum(body), to: &out)
        out += body
    }

    /// Calls `record` for each record that checks, in order; returns where the valid log ends.
    static func replay(_ bytes: [UInt8], _ record: (String, [UInt8]?) -> Void) -> Int {
        var at = 0
        while bytes.count - at >= recordHeader {
            let length = Int(BlockFile.be32(bytes, at)), crc = BlockFile.be32(bytes, at + 4)
            let start = at + recordHeader
            guard length >= 3, length <= bytes.count - start else { break }
            let body = Array(bytes[start..<(start + length)])
            guard CRC32C.checksum(body) == crc, body[0] <= 1 else { break }
            let keyLength = Int(body[1]) << 8 | Int(body[2])
            guard 3 + keyLength <= length else { break }
            let key = String(decoding: body[3..<(3 + keyLength)], as: UTF8.self)
            record(key, body[0] == 1 ? Array(body[(3 + keyLength)...]) : nil)
            at = start + length
        }
        return at
    }

    private static func appendBE32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
    }

    /// The live records as a new log: written beside, synced, renamed over, the folder synced.
    private func rewrite() throws {
        var snapshot: [UInt8] = []
        for key in live.keys.sorted() { Self.encode(key: key, value: live[key], into: &snapshot) }
        snapshot += pending
        let temporary = path + ".tmp"
        let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw Self.error("open", temporary) }
        defer { close(out) }
        try writeAll(out, snapshot, temporary)
        guard fdatasync(out) == 0 else { throw Self.error("fdatasync", temporary) }
        guard rename(temporary, path) == 0 else { throw Self.error("rename", temporary) }
        try syncDirectory()
        if fd >= 0 { close(fd); fd = -1 }
        try openForAppend()
        logBytes = snapshot.count
        pending.removeAll(keepingCapacity: true)
    }

    private func openForAppend() throws {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error("open", path) }
        preallocation.forget()
    }

    private func syncDirectory() throws {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw Self.error("open", directory) }
        defer { close(dir) }
        guard fsync(dir) == 0 else { throw Self.error("fsync", directory) }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], _ name: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.error("write", name) }
            written += n
        }
    }

    /// Records of the earlier layout: one file per key (leftover `.tmp` files removed).
    private func legacyRecords() throws -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where !name.hasPrefix(Self.fileName) {
            let file = directory + "/" + name
            if name.hasSuffix(".tmp") { unlink(file); continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw BlockFile.LedgerError.io("cannot read PBFT record \(file)")
            }
            records[name] = [UInt8](data)
        }
        return records
    }

    private static func error(_ call: String, _ name: String) -> BlockFile.LedgerError {
        .io("\(call) \(name): \(String(cString: strerror(errno)))")
    }
}
