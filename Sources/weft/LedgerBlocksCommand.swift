import ArgumentParser
import Foundation
import Weft

/// `weft ledger blocks`: one line a block, for comparing ledgers.
struct LedgerBlocksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocks",
        abstract: "Print every block: its number, hash (SHA-256 of its encoded bytes, hex) and transaction count.",
        discussion: "One line a block: '<number> <hash> <transactions>', then with --txids the txids, space-separated. "
            + "A damaged tail is named on stderr (exit 1) after the good blocks; for comparing ledgers block by block.")
    @OptionGroup var location: LedgerLocation
    @Flag(help: "Print each block's txids after its count.") var txids = false

    func run() throws {
        let file = try LedgerLocation.ledgerFile(try location.target())
        let durableEnd = LedgerLocation.durableEnd(ofLedgerFile: file)
        var out = ""
        var number = 0
        let scan = try BlockFile.walk(path: file) { record in
            out += "\(number) \(record.hashHex) \(record.block.transactions.count)"
            if txids { for tx in record.block.transactions { out += " " + tx.txid } }
            out += "\n"
            number += 1
            if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        if let problem = scan.tailProblem, durableEnd.map({ scan.validEnd < $0 }) ?? true {
            FileHandle.standardError.write(Data("\(scan.height) good blocks, then \(problem)\n".utf8))
            throw ExitCode(1)
        }
    }

}
