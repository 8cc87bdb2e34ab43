import CWeftLinux
import Glibc

/// Disk blocks reserved ahead of an append-only file's end, in large steps, so
/// that its appends find them allocated. Without it the kernel allocates a few
/// blocks at every append (`ext4_block_write_begin` + `block_commit_write`: 11 %
/// of a PBFT primary's samples in the profile of issue 24, the block file and
/// the record log each growing a few KiB at a time).
///
/// `fallocate(FALLOC_FL_KEEP_SIZE)`: the file's size (st_size) stays what was
/// written, so readers, restart recovery and the cutting of a torn tail see
/// exactly the bytes they saw before; the reserved blocks past the end read as
/// nothing and go when the file is truncated or removed.
///
/// Never the last of a disk: a reservation is made only while the file system
/// keeps `freeSteps` steps free, so a (nearly) full disk fails the appends
/// themselves with ENOSPC, as without preallocation. A failed reservation
/// (EOPNOTSUPP, ENOSPC, ...) is reported once and the file goes on unreserved.
struct Preallocation {
    /// How many steps the file system must have free for a reservation.
    static let freeSteps = 4

    /// Bytes reserved at a time past what is about to be written.
    let step: Int
    private let path: String
    private let report: @Sendable (String) -> Void
    /// The file's blocks are reserved up to here (0: unknown, e.g. a new descriptor).
    private var reservedEnd = 0
    private var unsupported = false
    private var reported = false

    /// `report` is called once, with why the file could not be preallocated.
    init(path: String, step: Int, report: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.step = step
        self.report = report
    }

    /// Before writing `count` bytes at `offset` of `fd`: reserves `[offset, offset + count + step)`
    /// unless it already is (one fallocate per `step` bytes appended).
    mutating func reserve(fd: Int32, offset: Int, count: Int) {
        guard !unsupported, offset + count > reservedEnd else { return }
        let length = count + step
        reservedEnd = offset + length   // a failure too waits another step before trying again
        var disk = statvfs()
        guard fstatvfs(fd, &disk) == 0 else { return }
        let free = Int(disk.f_bavail) &* Int(disk.f_frsize)
        guard free / Self.freeSteps >= length else { return }
        guard fallocate(fd, cweft_falloc_keep_size, off_t(offset), off_t(length)) != 0 else { return }
        let code = errno
        if code == EOPNOTSUPP || code == ENOSYS { unsupported = true }
        guard !reported else { return }
        reported = true
        report("cannot preallocate \(path) (\(String(cString: strerror(code)))): its appends allocate blocks as they go")
    }

    /// The descriptor now names another file (rewritten and renamed over): nothing known reserved.
    mutating func forget() { reservedEnd = 0 }
}
