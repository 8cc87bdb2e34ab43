import Dispatch
import Foundation
import Glibc
import Logging

/// The known peer addresses on disk (`<fileSystemPath>/discovery/peers`, one
/// `host:port` a line): read at start, written off the reactor thread
/// (temp file, fsync, rename, fsync of the folder) whenever the list changes.
final class AddressBook {
    let path: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "weft.discovery.persist", qos: .utility)
    private var saved: [String] = []

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// The addresses saved by an earlier run (unparseable lines skipped).
    func load() -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let list = text.split(separator: "\n").map(String.init).filter { HostPort($0) != nil }
        saved = list.sorted()
        if !list.isEmpty { logger.info("read \(list.count) known addresses from \(path)") }
        return list
    }

    /// Writes `list` (sorted) unless it is what was saved last.
    func save(_ list: [String]) {
        guard list != saved else { return }
        saved = list
        let path = self.path, logger = self.logger
        queue.async {
            do { try AddressBook.writeAtomically(list.joined(separator: "\n") + "\n", to: path) } catch {
                logger.warning("cannot persist known peers to \(path): \(error)")
            }
        }
    }

    /// Waits for the writes queued so far (tests, shutdown).
    func flush() { queue.sync {} }

    static func writeAtomically(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(call: "open \(temp)", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        Glibc.close(fd)
        guard written == bytes.count, synced == 0 else { throw SystemError(call: "write \(temp)", errno: errno) }
        guard rename(temp, path) == 0 else { throw SystemError(call: "rename \(temp)", errno: errno) }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); Glibc.close(dirFD) }
    }
}
