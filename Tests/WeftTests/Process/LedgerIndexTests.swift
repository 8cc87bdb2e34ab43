import Foundation
import Glibc
import Logging
@testable import Weft
import XCTest

/// The block and txid indexes on disk: rebuilt when missing or damaged,
/// lookups across restarts, growth, and start-up reading only the tail.
final class LedgerIndexTests: XCTestCase {
    private let tenPerBlock = ["peer.validator.consensus.noops.blockSize": "10"]

    private func restart(_ dataDir: String, name: String = "maker") throws -> PeerProcess {
        try PeerProcess(name: name, dataDir: dataDir, settings: tenPerBlock, consensus: "noops")
    }

    private func blocks(_ dataDir: String) throws -> [[UInt8]] {
        let reader = try LedgerReader(dataDirectory: dataDir)
        return try (0..<reader.chainInfo().height).map { try XCTUnwrap(reader.blockBytes($0)) }
    }

    func testTheBlockIndexIsRebuiltWhenDeletedOrDamaged() throws {
        let (dataDir, file, _) = try LedgerFixture.writeLedger(blocks: 5)
        let index = dataDir + "/ledger/index"
        let written = try blocks(dataDir)
        XCTAssertEqual(written, try BlockFile.scan(path: file).records.map(\.bytes))

        XCTAssertEqual(unlink(index), 0)
        XCTAssertThrowsError(try LedgerReader(dataDirectory: dataDir)) { XCTAssertTrue("\($0)".contains("no ledger index"), "\($0)") }
        var peer = try restart(dataDir)
        _ = try peer.waitForLog(containing: "ledger index \(index) is missing: rebuilt it from the block file (5 blocks)")
        XCTAssertEqual(try blocks(dataDir), written, "read through the rebuilt index while the peer runs")
        XCTAssertEqual(try peer.terminate(), 0)

        // Entry 3 points into the middle of a block.
        let fd = open(index, O_RDWR)
        var garbage: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 7]
        XCTAssertEqual(pwrite(fd, &garbage, 8, off_t(8 + 3 * 16)), 8)
        close(fd)
        XCTAssertThrowsError(try LedgerReader(dataDirectory: dataDir).block(3)) { XCTAssertTrue("\($0)".contains("block 3 is not where"), "\($0)") }
        peer = try restart(dataDir)
        _ = try peer.waitForLog(containing: "ledger index \(index): entry 3 does not follow the one before it: rebuilt it from the block file (5 blocks)")
        XCTAssertEqual(try peer.terminate(), 0)
        XCTAssertEqual(try blocks(dataDir), written)

        // A partly written last entry (a crash while appending it) is dropped without a rebuild.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: index))
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3, 4, 5, 6, 7]))
        handle.closeFile()
        peer = try restart(dataDir)
        XCTAssertEqual(try peer.metric("weft_chain_height"), 5)
        XCTAssertFalse(peer.log.contains("rebuilt"), peer.log)
        XCTAssertEqual(try peer.terminate(), 0)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: index)[.size] as? Int, 8 + 5 * 16)
    }

    func testTxidLookupsAfterRestartsAndARebuiltTxidIndex() throws {
        let (dataDir, _, _) = try LedgerFixture.writeLedger(blocks: 3)
        var peer = try restart(dataDir)
        _ = try LedgerFixture.submit((0..<20).map { "again-\($0)" }, to: peer, client: "second")
        try eventually("five blocks") { try LedgerReader(dataDirectory: dataDir).chainInfo().height == 5 }
        func checkLookups() throws {
            let reader = try LedgerReader(dataDirectory: dataDir)
            for (txid, block) in [("m-0", 0), ("m-15", 1), ("m-29", 2), ("again-0", 3), ("again-19", 4)] {
                let found = try XCTUnwrap(reader.transaction(txid: txid), txid)
                XCTAssertEqual(found.blockNumber, UInt64(block), txid)
                XCTAssertEqual(found.transaction.txid, txid)
                XCTAssertEqual(found.transaction.payload, Data(txid.utf8))
            }
            XCTAssertNil(try reader.transaction(txid: "never-sent"))
        }
        try checkLookups()            // the peer that wrote blocks 3 and 4 still runs
        XCTAssertEqual(try peer.terminate(), 0)
        try checkLookups()

        let txids = dataDir + "/ledger/txids"
        XCTAssertEqual(unlink(txids), 0)
        peer = try restart(dataDir)
        _ = try peer.waitForLog(containing: "ledger txid index \(txids): it is missing: rebuilt it from the block file (5 blocks)")
        try checkLookups()
        XCTAssertEqual(try peer.terminate(), 0)

        let fd = open(txids, O_RDWR)
        var garbage: [UInt8] = [0xde, 0xad]
        XCTAssertEqual(pwrite(fd, &garbage, 2, 20), 2)
        close(fd)
        XCTAssertThrowsError(try LedgerReader(dataDirectory: dataDir).transaction(txid: "m-0")) {
            XCTAssertTrue("\($0)".contains("CRC does not match"), "\($0)")
        }
        peer = try restart(dataDir)
        _ = try peer.waitForLog(containing: "ledger txid index \(txids): its header's CRC does not match: rebuilt it")
        try checkLookups()
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// Damage inside the indexed prefix, before the entries checked at start,
    /// is not looked for (that would read the chain); a read of that block,
    /// and verify, name it.
    func testDamageInsideTheIndexedPrefixIsNamedByReadsAndVerify() throws {
        let (dataDir, file, offsets) = try LedgerFixture.writeLedger(blocks: 12)
        let fd = open(file, O_RDWR)
        var byte: UInt8 = 0
        XCTAssertEqual(pread(fd, &byte, 1, off_t(offsets[1] + 40)), 1)
        byte ^= 0x5a
        XCTAssertEqual(pwrite(fd, &byte, 1, off_t(offsets[1] + 40)), 1)
        close(fd)
        let peer = try restart(dataDir)
        XCTAssertEqual(try peer.metric("weft_chain_height"), 12)
        let show = try runWeft(["ledger", "show", "1", "--data-dir", dataDir])
        XCTAssertEqual(show.status, 1, show.output)
        XCTAssertTrue(show.output.contains("block 1 is not where"), show.output)
        XCTAssertEqual(try runWeft(["ledger", "show", "2", "--data-dir", dataDir]).status, 0)
        let verify = try runWeft(["ledger", "verify", "--data-dir", dataDir])
        XCTAssertEqual(verify.status, 1, verify.output)
        XCTAssertTrue(verify.output.contains("corrupt at offset \(offsets[1])"), verify.output)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    func testTheTipIsReadBackFromTheEndOfTheLedger() throws {
        let dataDir = try LedgerFixture.temporaryDirectory("tip")
        let chain = try LedgerFixture.chain(30) { $0 % 4 }       // every fourth block empty
        let first = try LedgerBringUp(fileSystemPath: dataDir, groupCommitNanos: 0, blocksPerRequest: 10, logger: Logger(label: "test"))
        XCTAssertEqual(first.tip.height, 0)
        for block in chain { first.writer.append(block, txids: []) }
        first.writer.finish()

        let allTxids = try chain.flatMap { try Protos_Block(serializedBytes: $0).transactions.map(\.txid) }
        for count in [0, 1, 7, allTxids.count + 5] {
            let tip = try LedgerBringUp(fileSystemPath: dataDir, groupCommitNanos: 0, blocksPerRequest: 10, recentTxids: count,
                                        logger: Logger(label: "test")).tip
            XCTAssertEqual(tip.height, 30)
            XCTAssertEqual(tip.lastHash, BlockFile.hash(of: chain[29]))
            XCTAssertEqual(tip.previousHash, BlockFile.hash(of: chain[28]))
            XCTAssertEqual(tip.recentTxids, Array(allTxids.suffix(count)), "the last \(count) txids, oldest first")
        }
    }

    func testTheTxidIndexGrowsAndAReaderOpenedBeforeFollows() throws {
        let dataDir = try LedgerFixture.temporaryDirectory("grow")
        try FileManager.default.createDirectory(atPath: dataDir + "/ledger", withIntermediateDirectories: true)
        _ = try TxidIndex.create(path: dataDir + "/ledger/txids", slots: 8)     // doubles seven times for 1,000 txids
        let chain = try LedgerFixture.chain(40) { _ in 25 }
        let bringUp = try LedgerBringUp(fileSystemPath: dataDir, groupCommitNanos: 0, blocksPerRequest: 10, logger: Logger(label: "test"))
        bringUp.writer.append(chain[0], txids: [])
        bringUp.writer.finish()
        let reader = try LedgerReader(dataDirectory: dataDir)
        XCTAssertEqual(try reader.transaction(txid: "b0-t3")?.blockNumber, 0)     // the reader opened the 8-slot table
        for block in chain.dropFirst() { bringUp.writer.append(block, txids: []) }
        bringUp.writer.finish()

        let table = try XCTUnwrap(TxidIndex.open(path: dataDir + "/ledger/txids", writable: false))
        XCTAssertEqual(table.slotCount, 2048, "at most half full")
        XCTAssertEqual(table.entries, 1000)
        XCTAssertEqual(table.syncedHeight, 40)
        for i in 0..<40 {
            for j in [0, 13, 24] { XCTAssertEqual(try reader.transaction(txid: "b\(i)-t\(j)")?.blockNumber, UInt64(i), "b\(i)-t\(j)") }
        }
        XCTAssertNil(try reader.transaction(txid: "b40-t0"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataDir + "/ledger/txids.new"))
    }

    func testBlockTxidsReadsWhatSwiftProtobufDecodes() throws {
        var block = Protos_Block()
        block.previousBlockHash = Data(repeating: 7, count: 32)
        block.consensusMetadata = Data([1, 2, 3])
        block.timestamp = .init(seconds: 12, nanos: 34)
        for (i, txid) in ["a", "", "ünïcode-tx", String(repeating: "x", count: 300)].enumerated() {
            var tx = Protos_Transaction()
            tx.txid = txid
            tx.payload = Data(repeating: UInt8(i), count: 1000 * i)
            tx.timestamp = .init(seconds: Int64(i), nanos: 0)
            block.transactions.append(tx)
        }
        let bytes: [UInt8] = try block.serializedBytes()
        XCTAssertEqual(BlockTxids.of(bytes), block.transactions.map(\.txid))
        XCTAssertEqual(BlockTxids.of(try Protos_Block().serializedBytes()), [])
        XCTAssertNil(BlockTxids.of(Array(bytes.prefix(bytes.count - 2))), "a cut block")
        XCTAssertNil(BlockTxids.of([0x1a, 0xff]), "a length past the end")
    }
}
