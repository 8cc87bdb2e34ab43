import Foundation
import XCTest
@testable import Weft

/// The replica's record log: what `sync` made durable comes back, last write
/// wins, a torn tail is cut, the log is rewritten when it grows, and a store
/// of the earlier one-file-per-key layout is folded in.
final class PBFTStoreTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-store-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func reopen() throws -> (PBFTStore, [String: [UInt8]]) {
        let store = try PBFTStore(directory: directory)
        return (store, try store.load())
    }

    func testSyncedRecordsComeBackLastWriteWins() throws {
        let (store, first) = try reopen()
        XCTAssertEqual(first, [:])
        try store.apply(key: "view", value: Array("3".utf8))
        try store.apply(key: "batch.x", value: [1, 2, 3])
        try store.apply(key: "view", value: Array("4".utf8))
        try store.apply(key: "gone", value: [9])
        try store.apply(key: "gone", value: nil)
        try store.sync()
        XCTAssertEqual(store.syncs, 1)
        let (_, records) = try reopen()
        XCTAssertEqual(records, ["view": Array("4".utf8), "batch.x": [1, 2, 3]])
    }

    func testWhatWasNotSyncedIsNotOnDisk() throws {
        let (store, _) = try reopen()
        try store.apply(key: "view", value: Array("1".utf8))
        try store.sync()
        try store.apply(key: "view", value: Array("2".utf8))   // a crash before its sync
        let (_, records) = try reopen()
        XCTAssertEqual(records["view"], Array("1".utf8))
    }

    func testATornTailIsCutAndTheRestKept() throws {
        let (store, _) = try reopen()
        try store.apply(key: "a", value: [1])
        try store.sync()
        try store.apply(key: "b", value: Array(repeating: 7, count: 100))
        try store.sync()
        let path = directory + "/" + PBFTStore.fileName
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertEqual(truncate(path, off_t(size - 10)), 0)   // the last record half written
        let (again, records) = try reopen()
        XCTAssertEqual(records, ["a": [1]])
        XCTAssertNotNil(again.mended)
        try again.apply(key: "c", value: [3])
        try again.sync()
        let (_, after) = try reopen()
        XCTAssertEqual(after, ["a": [1], "c": [3]], "appends after the cut are readable")
    }

    func testTheLogIsRewrittenWhenItGrows() throws {
        let (store, _) = try reopen()
        let big = Array(repeating: UInt8(5), count: 64 << 10)
        for i in 0..<200 {
            try store.apply(key: "batch.\(i % 4)", value: big)
            try store.sync()
        }
        let path = directory + "/" + PBFTStore.fileName
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertLessThan(size, 9 << 20, "200 × 64 KiB written, 4 live keys: the log was rewritten")
        let (_, records) = try reopen()
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(records["batch.3"], big)
    }

    func testAStoreOfTheEarlierLayoutIsFoldedIn() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("7".utf8).write(to: URL(fileURLWithPath: directory + "/view"))
        try Data([1, 2]).write(to: URL(fileURLWithPath: directory + "/batch.abc"))
        try Data([0]).write(to: URL(fileURLWithPath: directory + "/qset.tmp"))
        let (store, records) = try reopen()
        XCTAssertEqual(records, ["view": Array("7".utf8), "batch.abc": [1, 2]])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), [PBFTStore.fileName])
        try store.apply(key: "view", value: Array("8".utf8))
        try store.sync()
        let (_, after) = try reopen()
        XCTAssertEqual(after, ["view": Array("8".utf8), "batch.abc": [1, 2]])
    }

    func testALogRemovedUnderTheStoreFailsItsSync() throws {
        let (store, _) = try reopen()
        try store.apply(key: "view", value: Array("1".utf8))
        try store.sync()
        try FileManager.default.removeItem(atPath: directory)
        try store.apply(key: "view", value: Array("2".utf8))
        XCTAssertThrowsError(try store.sync()) { XCTAssertTrue("\($0)".contains("removed or replaced"), "\($0)") }
    }
}
