import Foundation
import Glibc
import Logging
@testable import Weft
import XCTest

/// Reading the ledger of a running peer: LedgerReader and `weft ledger`.
final class LedgerLiveReadTests: XCTestCase {
    private let smallBlocks = ["peer.validator.consensus.noops.blockSize": "5", "peer.validator.consensus.noops.blockTimeout": "50ms",
                               "peer.validator.consensus.noops.sync": "group"]

    /// While a peer appends, every block the reader returns is whole, CRC-checked
    /// and linked to the one before; the height only grows; at the end every
    /// acknowledged txid is found.
    func testAReaderOnALedgerBeingAppendedSeesOnlyCompleteLinkedBlocks() throws {
        let peer = try PeerProcess(name: "live", settings: smallBlocks, consensus: "noops")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "writer")
        try eventually("the ledger files exist") { FileManager.default.fileExists(atPath: peer.dataDir + "/ledger/index") }
        let reader = try LedgerReader(dataDirectory: peer.dataDir)
        var seen: UInt64 = 0
        var lastHash: [UInt8] = []
        var observations = 0
        func observe() throws {
            let info = try reader.chainInfo()
            XCTAssertGreaterThanOrEqual(info.height, seen, "the durable height never goes back")
            while seen < info.height {
                let bytes = try XCTUnwrap(reader.blockBytes(seen), "block \(seen) below the height \(info.height)")
                let block = try Protos_Block(serializedBytes: bytes)
                XCTAssertEqual([UInt8](block.previousBlockHash), lastHash, "block \(seen) links to the one before")
                lastHash = BlockFile.hash(of: bytes)
                seen += 1
            }
            if info.height > 0 { XCTAssertEqual(info.currentBlockHash, lastHash) }
            observations += 1
        }
        let total = 2000
        for batch in 0..<(total / 100) {
            try client.write((0..<100).flatMap { LedgerFixture.transactionFrame("live-\(batch)-\($0)") })
            for _ in 0..<5 { try observe() }
        }
        var acked: [String] = []
        while acked.count < total {
            let message = try client.readMessage()
            guard message.type == .response else { continue }
            let response = try Protos_Response(serializedBytes: message.payload)
            XCTAssertEqual(response.status, .success)
            acked.append(String(decoding: response.msg, as: UTF8.self))
            if acked.count % 200 == 0 { try observe() }
        }
        try observe()
        XCTAssertEqual(Int(seen), try peer.metric("weft_chain_height"), "every acknowledged block is visible")
        for txid in acked where txid.hasSuffix("-7") {
            let found = try XCTUnwrap(reader.transaction(txid: txid), txid)
            XCTAssertEqual(found.transaction.txid, txid)
        }
        XCTAssertGreaterThan(observations, 100)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// Bytes the writer has not indexed (a record written but not yet synced,
    /// half a record) are not visible, and verify says what they are.
    func testRecordsNotYetIndexedAndAHalfRecordAreNotVisible() throws {
        let dataDir = try LedgerFixture.temporaryDirectory("unsynced")
        let chain = try LedgerFixture.chain(5) { _ in 3 }
        let bringUp = try LedgerBringUp(fileSystemPath: dataDir, groupCommitNanos: 0, blocksPerRequest: 10, logger: Logger(label: "test"))
        for block in chain.prefix(3) { bringUp.writer.append(block, txids: []) }
        bringUp.writer.finish()
        let file = dataDir + "/ledger/blocks"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(BlockFile.encodeRecord(chain[3])))                     // whole, CRC good, not indexed
        handle.write(Data(BlockFile.encodeRecord(chain[4]).prefix(30)))          // half written
        handle.closeFile()

        let reader = try LedgerReader(dataDirectory: dataDir)
        XCTAssertEqual(try reader.chainInfo(), ChainInfo(height: 3, currentBlockHash: BlockFile.hash(of: chain[2]),
                                                          previousBlockHash: BlockFile.hash(of: chain[1])))
        XCTAssertEqual(try reader.blockBytes(2), chain[2])
        XCTAssertNil(try reader.blockBytes(3))
        XCTAssertNil(try reader.transaction(txid: "b3-t0"))
        XCTAssertEqual(try reader.transaction(txid: "b2-t1")?.blockNumber, 2)
        let verify = try runWeft(["ledger", "verify", "--data-dir", dataDir])
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.output.contains("height 4") && verify.output.contains("bytes after the last durable block"), verify.output)

        // A start indexes the whole record and cuts the half one off.
        let again = try LedgerBringUp(fileSystemPath: dataDir, groupCommitNanos: 0, blocksPerRequest: 10, logger: Logger(label: "test"))
        XCTAssertEqual(again.tip.height, 4)
        XCTAssertEqual(try reader.blockBytes(3), chain[3])
        XCTAssertEqual(try reader.transaction(txid: "b3-t0")?.blockNumber, 3)
    }

    /// `weft ledger show/export/tail` on the data directory of a running peer,
    /// named by --data-dir, by CORE_PEER_FILESYSTEMPATH and by core.yaml.
    func testWeftLedgerCommandsOnALivePeer() throws {
        let peer = try PeerProcess(name: "shown", settings: smallBlocks, consensus: "noops")
        _ = try LedgerFixture.submit((0..<15).map { "shown-\($0)" }, to: peer, client: "filler")
        try eventually("three blocks") { try peer.metric("weft_chain_height") == 3 }
        let weft = PeerProcess.binary
        let byFlag = ["--data-dir", peer.dataDir]

        let show = try runProcess(weft, ["ledger", "show", "1"] + byFlag)
        XCTAssertEqual(show.status, 0, show.output)
        XCTAssertTrue(show.output.hasPrefix("block 1\n"), show.output)
        XCTAssertTrue(show.output.contains("txid shown-5") && show.output.contains("payload (7 bytes): shown-5"), show.output)

        let json = try runProcess(weft, ["ledger", "show", "1", "--json"] + byFlag)
        XCTAssertEqual(json.status, 0, json.output)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["number"] as? Int, 1)
        let transactions = try XCTUnwrap(object["transactions"] as? [[String: Any]])
        XCTAssertEqual(transactions.map { $0["txid"] as? String }, (5..<10).map { "shown-\($0)" })
        XCTAssertEqual(transactions.first?["payload"] as? String, Data("shown-5".utf8).base64EncodedString())
        let reader = try LedgerReader(dataDirectory: peer.dataDir)
        XCTAssertEqual(object["hash"] as? String, Data(BlockFile.hash(of: try XCTUnwrap(reader.blockBytes(1)))).base64EncodedString())
        XCTAssertEqual(object["previousBlockHash"] as? String, Data(BlockFile.hash(of: try XCTUnwrap(reader.blockBytes(0)))).base64EncodedString())

        let export = try runProcess(weft, ["ledger", "export", "--from", "0", "--to", "2"] + byFlag)
        XCTAssertEqual(export.status, 0, export.output)
        let lines = export.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[1], json.output.trimmingCharacters(in: .newlines), "export prints what show --json prints")

        let past = try runProcess(weft, ["ledger", "show", "3"] + byFlag)
        XCTAssertEqual(past.status, 1, past.output)
        XCTAssertTrue(past.output.contains("block 3 is past the durable height 3"), past.output)
        let pastExport = try runProcess(weft, ["ledger", "export", "--from", "2", "--to", "5"] + byFlag)
        XCTAssertEqual(pastExport.status, 1)
        XCTAssertTrue(pastExport.output.contains("block 3 is past the durable height 3"), pastExport.output)

        let tx = try runProcess(weft, ["ledger", "tx", "shown-12", "--json"] + byFlag)
        XCTAssertEqual(tx.status, 0, tx.output)
        let txObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(tx.output.utf8)) as? [String: Any])
        XCTAssertEqual(txObject["blockNumber"] as? Int, 2)
        XCTAssertEqual((txObject["transaction"] as? [String: Any])?["txid"] as? String, "shown-12")
        let missing = try runProcess(weft, ["ledger", "tx", "never-sent"] + byFlag)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.output.contains("no durable block holds txid 'never-sent'"), missing.output)

        let tail = try runProcess(weft, ["ledger", "tail", "-n", "2"] + byFlag)
        XCTAssertEqual(tail.output, "block 1: 5 transactions: shown-5 shown-6 shown-7 shown-8 shown-9\n"
            + "block 2: 5 transactions: shown-10 shown-11 shown-12 shown-13 shown-14\n")
        let byVariable = try runProcess(weft, ["ledger", "tail", "-n", "2"], environment: ["CORE_PEER_FILESYSTEMPATH": peer.dataDir])
        XCTAssertEqual(byVariable.output, tail.output)
        XCTAssertEqual(try runProcess(weft, ["ledger", "export", "--from", "0", "--to", "2"],
                                      environment: ["CORE_PEER_FILESYSTEMPATH": peer.dataDir]).output, export.output)
        let coreYAML = try LedgerFixture.temporaryDirectory("core") + "/core.yaml"
        try "peer:\n  fileSystemPath: \(peer.dataDir)\n".write(toFile: coreYAML, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runProcess(weft, ["ledger", "tail", "-n", "2", "--config", coreYAML]).output, tail.output)
        let verify = try runProcess(weft, ["ledger", "verify"], environment: ["CORE_PEER_FILESYSTEMPATH": peer.dataDir])
        XCTAssertTrue(verify.output.hasPrefix("OK ") && verify.output.contains("height 3"), verify.output)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// `weft ledger verify DIR...` (a shell glob over several clusters' directories) verifies each.
    func testVerifyTakesSeveralLedgers() throws {
        let one = try LedgerFixture.writeLedger(blocks: 2, name: "one")
        let two = try LedgerFixture.writeLedger(blocks: 3, name: "two")
        let both = try runWeft(["ledger", "verify", "--path", one.dataDir, two.dataDir])
        XCTAssertEqual(both.status, 0, both.output)
        let lines = both.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, both.output)
        XCTAssertTrue(lines[0].hasPrefix("OK \(one.file): height 2"), both.output)
        XCTAssertTrue(lines[1].hasPrefix("OK \(two.file): height 3"), both.output)
        XCTAssertEqual(truncate(two.file, off_t(two.offsets[2] + 20)), 0)
        let oneBad = try runWeft(["ledger", "verify", one.dataDir, two.dataDir])
        XCTAssertEqual(oneBad.status, 1, oneBad.output)
        XCTAssertTrue(oneBad.output.contains("OK \(one.file)") && oneBad.output.contains("FAIL \(two.file)"), oneBad.output)
    }
}
