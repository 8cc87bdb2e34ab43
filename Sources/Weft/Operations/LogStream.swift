import Foundation
import Logging
import Glibc
import Synchronization

/// Where log lines go: stderr, or (tests) a closure.
public struct LogStream: Sendable {
    let write: @Sendable (String) -> Void
    public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    public static let standardError = LogStream { line in
        // One write(2) per line, so lines from threads do not interleave.
        var line = line
        line.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
