import Foundation
import Glibc
import SwiftProtobuf
@testable import Weft
import WeftTools
import XCTest

/// The noops consenter and its ledger, through real peer processes.
final class LedgerTests: XCTestCase {
    private let fastBlocks = ["peer.validator.consensus.noops.blockSize": "100", "peer.validator.consensus.noops.blockTimeout": "200ms"]

    private func transaction(_ txid: String) -> [UInt8] { LedgerFixture.transactionFrame(txid) }

    private func submit(_ txids: [String], to peer: PeerProcess, client name: String) throws -> [String] {
        try LedgerFixture.submit(txids, to: peer, client: name)
    }

    private func ledgerTxids(_ dataDir: String) throws -> [String] { try LedgerFixture.txids(dataDir) }

    func testThreeValidatorsLedgerEveryAcknowledgedTransactionExactlyOnce() throws {
        let first = try PeerProcess(name: "led-0", settings: fastBlocks, consensus: "noops")
        var settings = fastBlocks
        settings["peer.discovery.rootnode"] = first.listen.description
        let peers = [first] + (try (1..<3).map { try PeerProcess(name: "led-\($0)", settings: settings, consensus: "noops") })
        try eventually("full mesh") { try peers.allSatisfy { try $0.peerNames().count == 2 } }

        var acked: [String: [String]] = [:]
        for (i, peer) in peers.enumerated() {
            let txids = (0..<250).map { "tx-\(i)-\($0)" }
            acked[peer.name] = try submit(txids, to: peer, client: "client-\(i)")
            XCTAssertEqual(Set(acked[peer.name]!), Set(txids))
        }
        try eventually("every ledger holds all 750 transactions") {
            try peers.allSatisfy { try $0.metric("weft_chain_height") > 0 && ledgerTxids($0.dataDir).count == 750 }
        }
        for peer in peers { XCTAssertEqual(try peer.terminate(), 0) }
        for peer in peers {
            let inLedger = try ledgerTxids(peer.dataDir)
            XCTAssertEqual(inLedger.count, Set(inLedger).count, "\(peer.name): no transaction twice")
            XCTAssertTrue(Set(acked[peer.name]!).isSubset(of: Set(inLedger)), "\(peer.name): every acknowledged txid is ledgered")
            let verify = try runWeft(["ledger", "verify", "--path", peer.dataDir])
            XCTAssertEqual(verify.status, 0, verify.output)
            XCTAssertTrue(verify.output.hasPrefix("OK"), verify.output)
        }
    }

    func testAcknowledgedTransactionsSurviveSIGKILL() throws {
        var peer = try PeerProcess(name: "crash", settings: fastBlocks, consensus: "noops")
        let dataDir = peer.dataDir
        let (client, _) = try WireClient.handshaken(peer.listen, name: "writer", timeoutSeconds: 3)
        var acked: [String] = []
        var sent = 0
        // Keep 200 in flight; kill the peer once 600 have been acknowledged.
        while acked.count < 600 {
            if sent - acked.count < 200 {
                try client.write((sent..<(sent + 50)).flatMap { transaction("c-\($0)") })
                sent += 50
            }
            let message = try client.readMessage()
            if message.type == .response { acked.append(String(decoding: try Protos_Response(serializedBytes: message.payload).msg, as: UTF8.self)) }
        }
        try client.write((sent..<(sent + 200)).flatMap { transaction("c-\($0)") })     // in flight at the kill
        peer.killHard()
        peer = try PeerProcess(name: "crash", dataDir: dataDir, settings: fastBlocks, consensus: "noops")
        XCTAssertEqual(try peer.terminate(), 0)
        let verify = try runWeft(["ledger", "verify", "--path", dataDir])
        XCTAssertEqual(verify.status, 0, verify.output)
        let inLedger = Set(try ledgerTxids(dataDir))
        XCTAssertTrue(Set(acked).isSubset(of: inLedger), "\(Set(acked).subtracting(inLedger).count) acknowledged txids lost")
    }

    /// Any validator answers SYNC_GET_BLOCKS from its ledger, noops too
    /// (PROTOCOL.md section 9): the durable blocks of the range, at most
    /// peer.sync.blocksPerRequest, byte for byte as in its file.
    func testNoopsValidatorAnswersSyncGetBlocksFromItsLedger() throws {
        var settings = ["peer.validator.consensus.noops.blockSize": "10", "peer.sync.blocksPerRequest": "3"]
        settings.merge(fastBlocks) { first, _ in first }
        let peer = try PeerProcess(name: "server", settings: settings, consensus: "noops")
        _ = try submit((0..<50).map { "s-\($0)" }, to: peer, client: "filler")
        try eventually("five blocks durable") { try peer.metric("weft_chain_height") == 5 }
        let (asker, _) = try WireClient.handshaken(peer.listen, name: "catching-up", type: .validator)
        func ask(_ start: UInt64, _ end: UInt64) throws -> Protos_SyncBlocks {
            var range = Protos_SyncBlockRange()
            range.correlationID = 42
            range.start = start
            range.end = end
            try asker.write(WireClient.frame(type: .syncGetBlocks, payload: try range.serializedBytes()))
            while true {
                let message = try asker.readMessage()
                if message.type == .syncBlocks { return try Protos_SyncBlocks(serializedBytes: message.payload) }
            }
        }
        let first = try ask(1, 10)
        XCTAssertEqual(first.range.correlationID, 42)
        XCTAssertEqual(first.blocks.count, 3, "at most peer.sync.blocksPerRequest")
        XCTAssertEqual([first.range.start, first.range.end], [1, 3])
        let rest = try ask(4, 10)
        XCTAssertEqual(rest.blocks.count, 1, "only the blocks it has")
        XCTAssertEqual(try ask(9, 10).blocks.count, 0)
        let scan = try BlockFile.scan(path: peer.dataDir + "/ledger/blocks")
        for (i, block) in (first.blocks + rest.blocks).enumerated() {
            XCTAssertEqual(try block.serializedBytes() as [UInt8], scan.records[i + 1].bytes, "block \(i + 1)")
        }
        XCTAssertEqual(try peer.terminate(), 0)
    }

    private func writeLedger(blocks: Int) throws -> (dataDir: String, file: String, offsets: [Int]) {
        try LedgerFixture.writeLedger(blocks: blocks)
    }

    func testGarbageAppendedIsTruncatedAndThePeerStarts() throws {
        let (dataDir, file, _) = try writeLedger(blocks: 3)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        handle.closeFile()
        let peer = try PeerProcess(name: "maker", dataDir: dataDir, consensus: "noops")
        try peer.waitForLog(containing: "truncated 1000 bytes, keeping 3 blocks")
        XCTAssertEqual(try peer.metric("weft_chain_height"), 3)
        XCTAssertEqual(try peer.terminate(), 0)
        XCTAssertEqual(try runWeft(["ledger", "verify", "--path", dataDir]).status, 0)
    }

    func testATornLastRecordIsTruncatedAndThePeerStarts() throws {
        let (dataDir, file, offsets) = try writeLedger(blocks: 3)
        XCTAssertEqual(truncate(file, off_t(offsets[2] + 20)), 0)          // crash in the middle of block 3
        let before = try runWeft(["ledger", "verify", "--path", dataDir])
        XCTAssertNotEqual(before.status, 0, "verify reports the torn tail: \(before.output)")
        let peer = try PeerProcess(name: "maker", dataDir: dataDir, consensus: "noops")
        try peer.waitForLog(containing: "keeping 2 blocks")
        XCTAssertEqual(try peer.terminate(), 0)
        XCTAssertEqual(try runWeft(["ledger", "verify", "--path", dataDir]).status, 0)
    }

    /// Start-up checks only the records after the block index's end: with the
    /// index gone, that is all of them (LedgerIndexTests: damage inside the indexed prefix).
    func testAFlippedByteMidFileStopsStartUpNamingTheOffsetWhenTheIndexIsRebuilt() throws {
        let (dataDir, file, offsets) = try writeLedger(blocks: 4)
        XCTAssertEqual(unlink(dataDir + "/ledger/index"), 0)
        let fd = open(file, O_RDWR)
        var byte: UInt8 = 0
        let at = off_t(offsets[1] + 40)
        XCTAssertEqual(pread(fd, &byte, 1, at), 1)
        byte ^= 0x5a
        XCTAssertEqual(pwrite(fd, &byte, 1, at), 1)
        close(fd)
        let peer = try PeerProcess(name: "maker", dataDir: dataDir, consensus: "noops", waitUntilStarted: false)
        XCTAssertNotEqual(try peer.waitForExit(timeout: 20), 0)
        XCTAssertTrue(peer.log.contains("corrupt at offset \(offsets[1])"), peer.log)
        let verify = try runWeft(["ledger", "verify", "--path", dataDir])
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue(verify.output.contains("offset \(offsets[1])"), verify.output)
    }

    func testChecksumsMatchKnownVectors() {
        XCTAssertEqual(SHA256.hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        // FIPS 202 SHAKE256, 64 bytes of output (the PBFT batch digest's length).
        XCTAssertEqual(SHA256.hex(SHAKE256.hash(Array("abc".utf8))),
                       "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4")
        XCTAssertEqual(SHA256.hex(SHAKE256.hash([])).prefix(16), "46b9dd2b0ba88d13")
    }
}


/// Answers that are not SUCCESS, and what DISC_HELLO says of the chain.
final class LedgerAnswerTests: XCTestCase {
    private func response(_ client: WireClient) throws -> Protos_Response {
        while true {
            let message = try client.readMessage()
            if message.type == .response { return try Protos_Response(serializedBytes: message.payload) }
        }
    }

    func testAMalformedTransactionIsAnsweredFailureNamingTheCause() throws {
        let peer = try PeerProcess(name: "answers", consensus: "noops")
        let (client, hello) = try WireClient.handshaken(peer.listen, name: "client")
        XCTAssertEqual(hello.blockchainInfo.height, 0)
        try client.write(WireClient.frame(type: .chainTransaction, payload: [0xff, 0xff, 0xff]))
        let answer = try response(client)
        XCTAssertEqual(answer.status, .failure)
        XCTAssertEqual(String(decoding: answer.msg, as: UTF8.self), "malformed transaction")
    }

    func testTheHelloCarriesTheLedgerHeight() throws {
        let peer = try PeerProcess(name: "height", settings: ["peer.validator.consensus.noops.blockSize": "2"], consensus: "noops")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "writer")
        var tx = Protos_Transaction()
        for i in 0..<6 {
            tx.txid = "h-\(i)"
            try client.write(WireClient.frame(type: .chainTransaction, payload: try tx.serializedBytes()))
        }
        for _ in 0..<6 { XCTAssertEqual(try response(client).status, .success) }
        let (_, hello) = try WireClient.handshaken(peer.listen, name: "reader")
        XCTAssertEqual(hello.blockchainInfo.height, 3)
        let health = try HTTPGet.fetch(peer.ops, path: "/healthz")
        XCTAssertTrue(health.contains("\"height\":3"), health)
    }

    func testATransactionRejectedForAFullRingIsAnsweredFailure() throws {
        let peer = try PeerProcess(name: "full", settings: [
            "peer.validator.consensus.overflow": "reject", "peer.validator.consensus.buffersize": "2",
            "peer.validator.consensus.echo.delay": "20ms",
        ])
        let (client, _) = try WireClient.handshaken(peer.listen, name: "hasty")
        var tx = Protos_Transaction()
        var frames: [UInt8] = []
        for i in 0..<40 {
            tx.txid = "r-\(i)"
            frames += WireClient.frame(type: .chainTransaction, payload: try tx.serializedBytes())
        }
        try client.write(frames)
        var failures: [String] = [], successes = 0
        for _ in 0..<40 {
            let answer = try response(client)
            if answer.status == .success { successes += 1 } else { failures.append(String(decoding: answer.msg, as: UTF8.self)) }
        }
        XCTAssertFalse(failures.isEmpty)
        XCTAssertTrue(failures.allSatisfy { $0.hasSuffix(": message channel full, rejecting") }, "\(failures)")
        XCTAssertEqual(successes + failures.count, 40)
        XCTAssertEqual(try peer.metric("weft_messages_rejected_total"), failures.count)
    }
}
