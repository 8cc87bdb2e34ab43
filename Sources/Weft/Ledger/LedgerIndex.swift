import Foundation
import Glibc

/// Where each block of the ledger file starts, so blocks can be served by
/// number (SYNC_GET_BLOCKS) without scanning the file: the record layout is
/// fixed (`BlockFile.recordHeader` + body), so appending a body of known
/// length predicts the next offset. Reads go through a descriptor of its own.
final class LedgerIndex {
    private let fd: Int32
    private var offsets: [Int] = []
    private var lengths: [Int] = []
    private var end: Int

    init(path: String, recovered: BlockFile.Scan) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BlockFile.LedgerError.io("cannot open \(path) to serve blocks: \(String(cString: strerror(errno)))") }
        for record in recovered.records {
            offsets.append(record.offset)
            lengths.append(record.bytes.count)
        }
        end = recovered.validEnd
    }

    deinit { close(fd) }

    var count: Int { offsets.count }

    /// Records the next block appended to the file.
    func appended(length: Int) {
        offsets.append(end)
        lengths.append(length)
        end += BlockFile.recordHeader + length
    }

    /// The encoded block `number`, read back from the file; nil if it is not there (yet).
    func block(_ number: Int) -> [UInt8]? {
        guard number >= 0, number < offsets.count else { return nil }
        var bytes = [UInt8](repeating: 0, count: lengths[number])
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offsets[number] + BlockFile.recordHeader)) }
        return n == lengths[number] ? bytes : nil
    }
}
