import ArgumentParser
import Foundation
import Weft

/// `weft ledger tx TXID`: a transaction by its txid, through the txid index.
struct LedgerTxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx", abstract: "Print the transaction with this txid and its block's number (exit 1 if no durable block holds it).",
        discussion: "--json prints {\"blockNumber\", \"transaction\"} (the transaction in the shape of show --json). "
            + "A txid in several blocks is answered with the first.")
    @OptionGroup var location: LedgerLocation
    @Argument(help: "The txid.") var txid: String
    @Flag(help: "One line of JSON.") var json = false

    func run() throws {
        guard let found = try location.reader().transaction(txid: txid) else {
            throw NotFound(txid: txid)
        }
        if json {
            print(try BlockJSON.line(["blockNumber": found.blockNumber, "transaction": BlockJSON.transaction(found.transaction)]))
            return
        }
        print("txid \(txid) in block \(found.blockNumber)")
        print("  payload (\(found.transaction.payload.count) bytes): \(LedgerShowCommand.readable(found.transaction.payload))")
    }

    struct NotFound: Error, CustomStringConvertible {
        let txid: String
        var description: String { "no durable block holds txid '\(txid)'" }
    }
}
