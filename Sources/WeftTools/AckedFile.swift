import CWeftLinux
import Foundation
import Glibc
import Histogram
import Synchronization
import Weft

/// The --acked file: whole lines appended with one write(2) each batch (O_APPEND,
/// so the threads' batches never interleave within a line).
final class AckedFile: Sendable {
    let fd: Int32
    let path: String
    let failed = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HTTPGet.Failure(description: "--acked: cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { Glibc.close(fd) }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if !failed.exchange(true, ordering: .relaxed) {
                        FileHandle.standardError.write(Data("load: --acked \(path): write failed: \(String(cString: strerror(errno)))\n".utf8))
                    }
                    return
                }
                offset += n
            }
        }
    }
}
