import ArgumentParser
import Foundation
import Weft

/// `weft ledger show N`: one durable block with its transactions' payloads.
struct LedgerShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print block N with its transactions and their payloads.",
        discussion: "Payloads print as text when they are printable UTF-8, else as base64. --json prints the block as "
            + "Fabric v0.6's REST API does (bytes base64), with its number and hash; the shape of `weft ledger export`.")
    @OptionGroup var location: LedgerLocation
    @Argument(help: "The block number (0 is the first block).") var number: UInt64
    @Flag(help: "One line of JSON.") var json = false

    func run() throws {
        let reader = try location.reader()
        guard let bytes = try reader.blockBytes(number) else {
            throw LedgerRangeError(number: number, height: try reader.chainInfo().height)
        }
        let block = try Protos_Block(serializedBytes: bytes)
        if json {
            print(try BlockJSON.line(BlockJSON.object(number: number, bytes: bytes, block: block)))
            return
        }
        print(Self.text(number: number, bytes: bytes, block: block), terminator: "")
    }

    static func text(number: UInt64, bytes: [UInt8], block: Protos_Block) -> String {
        var out = "block \(number)\n"
        out += "  hash                \(hex(Data(BlockFile.hash(of: bytes))))\n"
        out += "  previous hash       \(hex(block.previousBlockHash))\n"
        if block.hasTimestamp { out += "  timestamp           \(time(block.timestamp.seconds, block.timestamp.nanos))\n" }
        if !block.consensusMetadata.isEmpty { out += "  consensus metadata  \(hex(block.consensusMetadata))\n" }
        out += "  transactions        \(block.transactions.count)\n"
        for (i, tx) in block.transactions.enumerated() {
            out += "  [\(i)] txid \(tx.txid)  type \(tx.type)"
            if tx.hasTimestamp { out += "  timestamp \(time(tx.timestamp.seconds, tx.timestamp.nanos))" }
            out += "\n      payload (\(tx.payload.count) bytes): \(readable(tx.payload))\n"
        }
        return out
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

    static func readable(_ payload: Data) -> String {
        if let text = String(data: payload, encoding: .utf8), text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f || $0 == "\t" }) {
            return text
        }
        return "base64 " + payload.base64EncodedString()
    }

    static func time(_ seconds: Int64, _ nanos: Int32) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9))
    }
}
