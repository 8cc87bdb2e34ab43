import Foundation
@testable import Weft
import XCTest

/// Writing transactions to a peer and reading its ledger, for the ledger tests.
enum LedgerFixture {
    /// A CHAIN_TRANSACTION frame whose payload is the txid.
    static func transactionFrame(_ txid: String) -> [UInt8] {
        var tx = Protos_Transaction()
        tx.type = .chaincodeInvoke
        tx.txid = txid
        tx.payload = Data(txid.utf8)
        return WireClient.frame(type: .chainTransaction, payload: try! tx.serializedBytes())
    }

    /// Sends the transactions and returns the txids acknowledged with SUCCESS.
    static func submit(_ txids: [String], to peer: PeerProcess, client name: String) throws -> [String] {
        let (client, _) = try WireClient.handshaken(peer.listen, name: name)
        try client.write(txids.flatMap(transactionFrame))
        var acked: [String] = []
        while acked.count < txids.count {
            let message = try client.readMessage()
            guard message.type == .response else { continue }
            let response = try Protos_Response(serializedBytes: message.payload)
            XCTAssertEqual(response.status, .success, String(decoding: response.msg, as: UTF8.self))
            acked.append(String(decoding: response.msg, as: UTF8.self))
        }
        return acked
    }

    /// Every txid in the ledger file, in chain order (a full scan).
    static func txids(_ dataDir: String) throws -> [String] {
        let scan = try BlockFile.scan(path: dataDir + "/ledger/blocks")
        XCTAssertNil(scan.tailProblem)
        return scan.records.flatMap { $0.block.transactions.map(\.txid) }
    }

    /// A ledger of `blocks` blocks (ten transactions each) written by a noops peer, now stopped; the offsets of its records.
    static func writeLedger(blocks: Int, name: String = "maker") throws -> (dataDir: String, file: String, offsets: [Int]) {
        let peer = try PeerProcess(name: name, settings: ["peer.validator.consensus.noops.blockSize": "10"], consensus: "noops")
        _ = try submit((0..<(10 * blocks)).map { "m-\($0)" }, to: peer, client: "maker-client")
        XCTAssertEqual(try peer.terminate(), 0)
        let file = peer.dataDir + "/ledger/blocks"
        let scan = try BlockFile.scan(path: file)
        XCTAssertEqual(scan.height, UInt64(blocks))
        return (peer.dataDir, file, scan.records.map(\.offset))
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ name: String) throws -> String {
        TestScratch.directory("weft-\(name)")
    }

    /// A chain of `count` blocks, block i holding `transactionsPerBlock(i)` transactions named "b<i>-t<j>".
    static func chain(_ count: Int, transactionsPerBlock: (Int) -> Int) throws -> [[UInt8]] {
        var blocks: [[UInt8]] = []
        var previous: [UInt8] = []
        for i in 0..<count {
            var block = Protos_Block()
            block.previousBlockHash = Data(previous)
            block.transactions = (0..<transactionsPerBlock(i)).map { j in
                var tx = Protos_Transaction()
                tx.txid = "b\(i)-t\(j)"
                tx.payload = Data("payload \(i).\(j)".utf8)
                return tx
            }
            let bytes: [UInt8] = try block.serializedBytes()
            previous = BlockFile.hash(of: bytes)
            blocks.append(bytes)
        }
        return blocks
    }
}
