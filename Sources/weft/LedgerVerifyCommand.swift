import ArgumentParser
import Foundation
import Weft

/// `weft ledger verify`: every record's CRC and hash link, streaming.
struct LedgerVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record's CRC and every hash link; print the height and the last hash.",
        discussion: "One line per ledger: OK or FAIL. More ledgers may follow as arguments (a shell glob such as "
            + "/tmp/weft-cluster.*/vp*); exit 1 if any fails. Bytes after the last durable block (a block being written, "
            + "or a torn tail the next start cuts off) are named, not failed.")
    @OptionGroup var location: LedgerLocation
    @Argument(help: "More data directories or ledger files to verify.") var more: [String] = []

    func run() throws {
        var targets = more
        if location.path != nil || more.isEmpty { targets.insert(try location.target(), at: 0) }
        var failed = false
        for target in targets {
            let file = try LedgerLocation.ledgerFile(target)
            let line = Self.verify(file)
            print(line)
            failed = failed || line.hasPrefix("FAIL")
        }
        if failed { throw ExitCode(1) }
    }

    static func verify(_ file: String) -> String {
        let durableEnd = LedgerLocation.durableEnd(ofLedgerFile: file)   // before the walk: a live peer appends meanwhile
        var transactions = 0
        let scan: BlockFile.Scan
        do { scan = try BlockFile.walk(path: file) { transactions += $0.block.transactions.count } } catch {
            return "FAIL \(error)"
        }
        var note = ""
        if let problem = scan.tailProblem {
            guard let durableEnd, scan.validEnd >= durableEnd else {
                return "FAIL \(file): \(scan.height) good blocks, then \(problem) (a peer start truncates this tail)"
            }
            note = "; then \(scan.fileSize - scan.validEnd) bytes after the last durable block (being written, or a torn tail a start cuts off)"
        }
        return "OK \(file): height \(scan.height), \(transactions) transactions, last hash \(scan.lastHashHex)\(note)"
    }
}
