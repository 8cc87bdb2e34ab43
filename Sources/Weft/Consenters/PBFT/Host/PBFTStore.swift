import Foundation
import Glibc

/// The replica's `.persist` records as files in `<peer.fileSystemPath>/pbft/`,
/// one per key: written to `<key>.tmp` then renamed over the key, so a crash
/// leaves either the old record or the new one, never half of one. Writes
/// happen on the fan's queue before anything the replica sends after them.
///
/// Not fsynced: a record survives the process being killed at any point (the
/// kernel has it), as Fabric v0.6's LevelDB writes without sync did; a host
/// that loses power may come back with older records. Syncing each record
/// would put a disk flush in front of every PREPARE and COMMIT.
final class PBFTStore: PBFTRecordStore {
    let directory: String
    private(set) var writes = 0

    init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BlockFile.LedgerError.io("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    /// Every record stored (leftover `.tmp` files of an interrupted write are removed).
    func load() throws -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let path = directory + "/" + name
            if name.hasSuffix(".tmp") { unlink(path); continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BlockFile.LedgerError.io("cannot read PBFT record \(path)")
            }
            records[name] = [UInt8](data)
        }
        return records
    }

    /// Stores `value` under `key`, or removes the key (nil).
    func apply(key: String, value: [UInt8]?) throws {
        precondition(!key.contains("/") && !key.hasPrefix("."), "PBFT record keys are plain file names")
        let path = directory + "/" + key
        writes += 1
        guard let value else {
            if unlink(path) != 0 && errno != ENOENT { throw BlockFile.LedgerError.io("unlink \(path): \(String(cString: strerror(errno)))") }
            return
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlockFile.LedgerError.io("open \(temporary): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < value.count {
            let n = value.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BlockFile.LedgerError.io("write \(temporary): \(String(cString: strerror(errno)))") }
            written += n
        }
        guard rename(temporary, path) == 0 else { throw BlockFile.LedgerError.io("rename \(temporary): \(String(cString: strerror(errno)))") }
    }
}
