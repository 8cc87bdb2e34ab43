import Foundation
import XCTest
@testable import Weft

/// A txid table doubled a region at a time (issue 24) holds every entry of the
/// smaller one, each found by a lookup from its home: with regions as small as
/// four slots, entries run past region ends and past the table's end.
final class TxidTableRegionsTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws { directory = try LedgerFixture.temporaryDirectory("regions") }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A table of `slots` slots filled to just under half with txids "<tag>-i" in block i.
    private func filled(_ slots: UInt64, tag: String) throws -> (TxidIndex, [String]) {
        let table = try TxidIndex.create(path: directory + "/\(tag)", slots: slots)
        let txids = (0..<Int(slots / 2 - 1)).map { "\(tag)-\($0)" }
        for (i, txid) in txids.enumerated() { try table.insert(txid, block: UInt64(i)) }
        XCTAssertEqual(table.slotCount, slots, "not grown while filling")
        return (table, txids)
    }

    private func assertHoldsEach(_ table: TxidIndex, _ txids: [String], _ context: String) throws {
        for (i, txid) in txids.enumerated() {
            XCTAssertTrue(try table.candidates(txid).contains(UInt64(i)), "\(context): \(txid)")
        }
        let bytes = try table.file.read(at: TxidIndex.headerSize, count: Int(table.slotCount) * TxidIndex.slotSize)
        let occupied = stride(from: 0, to: bytes.count, by: TxidIndex.slotSize).filter { BigEndian.uint64(bytes, $0) != 0 }.count
        XCTAssertEqual(occupied, txids.count, "\(context): every entry once")
    }

    func testSmallRegionsCarryEntriesOnAndWrapTheRestToTheStart() throws {
        var wrappedSeen = 0
        for trial in 0..<40 {
            let (source, txids) = try filled(64, tag: "t\(trial)")
            let target = try TxidIndex.create(path: directory + "/t\(trial).big", slots: 128)
            let wrapped = try TxidTableRegions(from: source, into: target, regionSlots: 4).fill()
            wrappedSeen += wrapped.count
            for (digest, block) in wrapped { try target.insert(digest: digest, block: block) }
            try assertHoldsEach(target, txids, "trial \(trial)")
        }
        XCTAssertGreaterThan(wrappedSeen, 0, "some trial ran past the table's end")
    }

    func testATableGrowsThroughManyRegionsAndKeepsEveryTxid() throws {
        let table = try TxidIndex.create(path: directory + "/txids", slots: 8)
        let txids = (0..<40_000).map { "g-\($0)" }
        for (i, txid) in txids.enumerated() { try table.insert(txid, block: UInt64(i)) }
        XCTAssertEqual(table.slotCount, 131_072, "grown past one region of \(TxidTableRegions.regionSlots) slots")
        XCTAssertEqual(table.entries, 40_000)
        try assertHoldsEach(table, txids, "grown")
        let reopened = try XCTUnwrap(TxidIndex.open(path: directory + "/txids", writable: false))
        XCTAssertEqual(reopened.slotCount, 131_072)
        XCTAssertTrue(try reopened.candidates("g-39999").contains(39_999))
    }
}
