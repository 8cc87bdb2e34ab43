import XCTest
@testable import Weft

/// The simulator's record store behaves as `RecordWriter` on a disk that can
/// lose power: submitted records reach the disk only when the world runs the
/// writer, are durable only after its fsync, and a crash in between loses them.
final class SimRecordStoreTests: XCTestCase {
    func testRecordsAreDurableOnlyAfterTheWritersFsync() {
        let disk = SimDisk()
        let store = SimRecordStore(disk: disk, incarnation: SimIncarnation(number: 1))
        XCTAssertEqual(store.submit([("view", [1])]), 1)
        XCTAssertEqual(store.submit([("qset", [2])]), 2)
        XCTAssertTrue(store.pending)
        XCTAssertEqual(disk.records, [:], "written before the writer ran")
        store.write()
        XCTAssertEqual(store.durableTicket, 0, "durable before its fsync")
        store.sync()
        XCTAssertEqual(store.durableTicket, 2)
        XCTAssertFalse(store.pending)
        disk.powerLoss()
        XCTAssertEqual(disk.records, ["view": [1], "qset": [2]])
    }

    func testAPowerLossBetweenWriteAndFsyncLosesTheRecords() {
        let disk = SimDisk()
        let store = SimRecordStore(disk: disk, incarnation: SimIncarnation(number: 1))
        _ = store.submit([("view", [1])])
        store.write()
        store.sync()
        _ = store.submit([("view", [2])])
        store.write()
        disk.powerLoss()
        XCTAssertEqual(disk.records, ["view": [1]], "a record survived a power loss without its fsync")
        XCTAssertEqual(store.durableTicket, 1)
    }

    func testAFullDiskFailsTheStoreForGood() {
        let disk = SimDisk()
        let store = SimRecordStore(disk: disk, incarnation: SimIncarnation(number: 1))
        disk.full = true
        _ = store.submit([("view", [1])])
        store.write()
        store.sync()
        XCTAssertNotNil(store.failure)
        disk.full = false
        _ = store.submit([("view", [2])])
        store.finish()
        XCTAssertEqual(store.durableTicket, 0, "durable after a failure")
        XCTAssertEqual(disk.records, [:])
    }

    func testADeadProcessSubmitsNothing() {
        let disk = SimDisk()
        let incarnation = SimIncarnation(number: 1)
        let store = SimRecordStore(disk: disk, incarnation: incarnation)
        incarnation.kill()
        _ = store.submit([("view", [1])])
        store.finish()
        XCTAssertEqual(disk.records, [:])
    }
}
