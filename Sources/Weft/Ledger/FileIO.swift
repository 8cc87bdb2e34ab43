import Foundation
import Glibc

/// Whole reads and writes at an offset on a descriptor (EINTR and short
/// transfers retried), errors naming the file.
struct FileIO {
    let fd: Int32
    let path: String

    /// Opens `path`; nil when it does not exist (and `flags` do not create it).
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileIO? {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { throw BlockFile.LedgerError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        return FileIO(fd: fd, path: path)
    }

    func close() { _ = Glibc.close(fd) }

    func size() throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("fstat") }
        return Int(info.st_size)
    }

    /// The file's identity, to notice that the path now names another file (a rename over it).
    func inode() -> UInt64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_ino) : 0
    }

    /// Up to `count` bytes at `offset`: fewer only at the end of the file.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("read") }
            if n == 0 { bytes.removeLast(count - done); break }
            done += n
        }
        return bytes
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("write") }
            done += n
        }
    }

    /// Writes `bytes` at `offset` one page at a time (split at page boundaries): a large
    /// write fills the page cache with large folios, and every later small write into
    /// one walks all of that folio's block buffers in ext4 (`ext4_block_write_begin`).
    func writeInPages(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let at = offset + done
            let piece = min(bytes.count - done, (at / Self.pageSize + 1) * Self.pageSize - at)
            try write(Array(bytes[done..<(done + piece)]), at: at)
            done += piece
        }
    }

    static let pageSize = 4096

    /// Random access from here on: no readahead, which would fill the page cache with
    /// large folios (see `writeInPages`).
    func adviseRandomAccess() { _ = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) }

    func truncate(to size: Int) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw failure("truncate") }
    }

    func sync() throws {
        guard fdatasync(fd) == 0 else { throw failure("fdatasync") }
    }

    private func failure(_ what: String) -> BlockFile.LedgerError {
        .io("\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
