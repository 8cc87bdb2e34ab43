import ArgumentParser
import Weft

/// `weft ledger tail`: the last durable blocks' txids.
struct LedgerTailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print the last durable blocks' txids.")
    @OptionGroup var location: LedgerLocation
    @Option(name: .short, help: "How many blocks.") var n = 5

    func run() throws {
        let reader = try location.reader()
        let height = try reader.chainInfo().height
        let first = height > UInt64(max(0, n)) ? height - UInt64(max(0, n)) : 0
        for number in first..<height {
            guard let block = try reader.block(number) else { break }
            let txids = block.transactions.map(\.txid)
            print("block \(number): \(txids.count) transactions: \(txids.joined(separator: " "))")
        }
    }
}
