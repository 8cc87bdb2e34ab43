import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// Reading ledgers back from their files.
enum PBFTLedgers {
    static func txids(_ dataDir: String) throws -> [String] {
        let scan = try BlockFile.scan(path: dataDir + "/ledger/blocks")
        XCTAssertNil(scan.tailProblem, dataDir)
        return scan.records.flatMap { $0.block.transactions.map(\.txid) }
    }

    /// Every replica's block file holds the same bytes (blocks are byte-identical
    /// and the record format is deterministic).
    static func assertIdentical(_ dataDirs: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let files = try dataDirs.map { try Data(contentsOf: URL(fileURLWithPath: $0 + "/ledger/blocks")) }
        let scans = try dataDirs.map { try BlockFile.scan(path: $0 + "/ledger/blocks") }
        XCTAssertGreaterThan(scans[0].height, 0, file: file, line: line)
        for (i, data) in files.enumerated().dropFirst() {
            XCTAssertEqual(scans[i].height, scans[0].height, "\(dataDirs[i]): height", file: file, line: line)
            XCTAssertEqual(scans[i].lastHash, scans[0].lastHash, "\(dataDirs[i]): last hash", file: file, line: line)
            XCTAssertTrue(data == files[0], "\(dataDirs[i]): the block file differs from \(dataDirs[0])", file: file, line: line)
        }
    }

    static func assertEachOnce(_ acked: [String], in dataDir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let chain = try txids(dataDir)
        var counts: [String: Int] = [:]
        for txid in chain { counts[txid, default: 0] += 1 }
        XCTAssertEqual(counts.values.filter { $0 > 1 }.count, 0, "no txid twice in the chain", file: file, line: line)
        let missing = acked.filter { counts[$0] == nil }
        XCTAssertEqual(missing, [], "acknowledged but not in the chain", file: file, line: line)
    }
}
