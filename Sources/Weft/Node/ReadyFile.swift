import Foundation
import Glibc

/// `weft node start --ready-file PATH`: once the peer listens, one JSON
/// object naming its process and addresses, so that scripts need not read
/// the log (whatever its format or level):
///
///     {"address":"127.0.0.1:7051","listen":"127.0.0.1:7051","operations":"127.0.0.1:9443","pid":4242,"rest":"127.0.0.1:7050"}
///
/// `operations` and `rest` are null when that listener is off. Written to a temporary
/// file in the same folder and renamed over PATH, so a reader sees the
/// whole object or none; removed when the peer stops gracefully.
public enum ReadyFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The object for `node`, as one line with sorted keys.
    public static func contents(of node: Node, pid: Int32 = getpid()) -> String {
        let object: [String: Any] = [
            "pid": Int(pid),
            "listen": node.boundAddress.description,
            "address": node.advertisedAddress,
            "operations": node.operationsAddress.map { $0.description as Any } ?? NSNull(),
            "rest": node.restAddress.map { $0.description as Any } ?? NSNull(),
        ]
        return OperationsJSON.encode(object)
    }

    /// Writes `text` to `path` atomically (temporary file, fsync, rename).
    public static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        let why = String(cString: strerror(errno))
        close(fd)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw Failure(description: "cannot write '\(temporary)': \(why)")
        }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot rename '\(temporary)' to '\(path)': \(why)")
        }
    }
}
