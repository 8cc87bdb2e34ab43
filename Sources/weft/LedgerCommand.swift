import ArgumentParser
import Foundation
import Weft

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Inspect a peer's block ledger (run it while the peer is stopped, or on a copy).",
        subcommands: [VerifyCommand.self, TailCommand.self])

    /// `--path`: the ledger file, or a data directory holding ledger/blocks.
    static func ledgerFile(_ path: String?) throws -> String {
        var given = path ?? PeerConfig().fileSystemPath
        // Nothing named and no default ledger: the per-user directory a first run falls back to.
        if path == nil, !FileManager.default.fileExists(atPath: given),
           let own = DataDirectory.perUserDirectory(ProcessInfo.processInfo.environment),
           FileManager.default.fileExists(atPath: own) {
            given = own
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: given, isDirectory: &isDirectory) else {
            throw ValidationError("no ledger at '\(given)'")
        }
        let file = isDirectory.boolValue ? (given as NSString).appendingPathComponent("ledger/blocks") : given
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no ledger file at '\(file)'") }
        return file
    }

    struct VerifyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check every record's CRC and every hash link; print the height and the last hash.")
        @Option(help: "The ledger file, or the peer's data directory (peer.fileSystemPath).") var path: String?

        func run() throws {
            let file = try LedgerCommand.ledgerFile(path)
            let scan: BlockFile.Scan
            do { scan = try BlockFile.scan(path: file) } catch {
                print("FAIL \(error)")
                throw ExitCode(1)
            }
            let txs = scan.records.reduce(0) { $0 + $1.block.transactions.count }
            if let problem = scan.tailProblem {
                print("FAIL \(file): \(scan.height) good blocks, then \(problem) (a peer start truncates this tail)")
                throw ExitCode(1)
            }
            print("OK \(file): height \(scan.height), \(txs) transactions, last hash \(scan.lastHashHex)")
        }
    }

    struct TailCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print the last blocks' txids.")
        @Option(help: "The ledger file, or the peer's data directory (peer.fileSystemPath).") var path: String?
        @Option(name: .short, help: "How many blocks.") var n = 5

        func run() throws {
            let scan = try BlockFile.scan(path: try LedgerCommand.ledgerFile(path))
            let first = max(0, scan.records.count - n)
            for (i, record) in scan.records.enumerated().dropFirst(first) {
                let txids = record.block.transactions.map(\.txid)
                print("block \(i) @\(record.offset): \(txids.count) transactions: \(txids.joined(separator: " "))")
            }
        }
    }
}
