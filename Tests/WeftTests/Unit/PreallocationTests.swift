import Foundation
import Glibc
import Logging
import XCTest
@testable import Weft

/// The block file and the PBFT record log reserve their blocks a step ahead of
/// their appends (issue 24), on a real file in a temporary directory: the
/// blocks are there, the size is only what was written, and a torn tail over
/// the reserved blocks is still cut at a restart.
final class PreallocationTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws { directory = try LedgerFixture.temporaryDirectory("prealloc") }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func status(_ path: String) throws -> stat {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0, "stat \(path)")
        return info
    }

    /// Allocated bytes of `path`, and its size.
    private func allocated(_ path: String) throws -> (bytes: Int, size: Int) {
        let info = try status(path)
        return (Int(info.st_blocks) * 512, Int(info.st_size))
    }

    private func bringUp() throws -> LedgerBringUp {
        try LedgerBringUp(fileSystemPath: directory, groupCommitNanos: 0, blocksPerRequest: 16, logger: Logger(label: "test"))
    }

    func testABlockAppendReservesAStepAheadAndTheSizeIsWhatWasWritten() throws {
        let chain = try LedgerFixture.chain(2) { _ in 3 }
        let ledger = try bringUp()
        ledger.writer.append(chain[0], txids: [])
        ledger.writer.finish()
        let path = directory + "/ledger/blocks"
        let first = try allocated(path)
        XCTAssertEqual(first.size, BlockFile.recordHeader + chain[0].count, "st_size: only the record written")
        XCTAssertGreaterThanOrEqual(first.bytes, first.size + BlockFile.preallocationStep, "the blocks of a step ahead are reserved")
        ledger.writer.append(chain[1], txids: [])
        ledger.writer.finish()
        XCTAssertEqual(try allocated(path).bytes, first.bytes, "the next append found its blocks reserved: none added")
        XCTAssertEqual(try BlockFile.scan(path: path).height, 2)
    }

    /// A crash after the size moved but before the data reached the disk leaves
    /// zeros where the reserved blocks were not written yet: cut at start-up.
    func testATornTailOverTheReservedBlocksIsCutAndAppendsGoOn() throws {
        let chain = try LedgerFixture.chain(3) { _ in 2 }
        let path = directory + "/ledger/blocks"
        do {
            let ledger = try bringUp()
            for block in chain.prefix(2) { ledger.writer.append(block, txids: []) }
            ledger.writer.finish()
        }
        let written = try allocated(path).size
        // The torn tail: half the third record, then zeros from the reserved blocks.
        let torn = Array(BlockFile.encodeRecord(chain[2]).prefix(20))
        let fd = open(path, O_WRONLY)
        XCTAssertEqual(torn.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) }, torn.count)
        XCTAssertEqual(ftruncate(fd, off_t(written + 8192)), 0)
        close(fd)

        let again = try bringUp()
        XCTAssertEqual(again.tip.height, 2, "the two whole blocks are kept")
        XCTAssertEqual(try allocated(path).size, written, "the torn tail is cut")
        again.writer.append(chain[2], txids: [])
        again.writer.finish()
        let scan = try BlockFile.scan(path: path)
        XCTAssertNil(scan.tailProblem)
        XCTAssertEqual(scan.height, 3)
        let after = try allocated(path)
        XCTAssertGreaterThanOrEqual(after.bytes, after.size + BlockFile.preallocationStep, "reserved again after the cut")
    }

    func testTheRecordLogIsReservedAheadAndATornTailIsStillCut() throws {
        let store = try PBFTStore(directory: directory)
        XCTAssertEqual(try store.load(), [:])
        try store.apply(key: "view", value: Array("3".utf8))
        try store.apply(key: "batch.1", value: Array(repeating: 7, count: 3000))
        try store.sync()
        let path = directory + "/" + PBFTStore.fileName
        let first = try allocated(path)
        XCTAssertGreaterThanOrEqual(first.bytes, first.size + PBFTStore.preallocationStep, "the blocks of a step ahead are reserved")

        // A torn tail over the reserved blocks: zeros past the last record.
        XCTAssertEqual(truncate(path, off_t(first.size + 4096)), 0)
        let reopened = try PBFTStore(directory: directory)
        XCTAssertEqual(try reopened.load(), ["view": Array("3".utf8), "batch.1": Array(repeating: 7, count: 3000)])
        XCTAssertNotNil(reopened.mended, "the zeros are cut")
        XCTAssertEqual(try allocated(path).size, first.size)
        try reopened.apply(key: "view", value: Array("4".utf8))
        try reopened.sync()
        let after = try allocated(path)
        XCTAssertGreaterThanOrEqual(after.bytes, after.size + PBFTStore.preallocationStep, "the rewritten log is reserved too")
        XCTAssertEqual(try PBFTStore(directory: directory).load()["view"], Array("4".utf8))
    }
}
