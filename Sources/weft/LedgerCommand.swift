import ArgumentParser
import Foundation
import Weft

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Inspect a peer's block ledger (run it while the peer is stopped, or on a copy).",
        subcommands: [VerifyCommand.self, TailCommand.self, BlocksCommand.self])

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

    struct BlocksCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blocks",
            abstract: "Print every block: its number, hash (SHA-256 of its encoded bytes, hex) and transaction count.",
            discussion: "One line a block: '<number> <hash> <transactions>', then with --txids the txids, space-separated. "
                + "A damaged tail is named on stderr (exit 1) after the good blocks; for comparing ledgers block by block.")
        @Option(help: "The ledger file, or the peer's data directory (peer.fileSystemPath).") var path: String?
        @Flag(help: "Print each block's txids after its count.") var txids = false

        func run() throws {
            let scan = try BlockFile.scan(path: try LedgerCommand.ledgerFile(path))
            var out = ""
            for (i, record) in scan.records.enumerated() {
                // The scan checked every link: a block's hash is the next one's previousBlockHash.
                let raw = i + 1 < scan.records.count ? [UInt8](scan.records[i + 1].block.previousBlockHash) : scan.lastHash
                let hash = raw.map { String(format: "%02x", $0) }.joined()
                out += "\(i) \(hash) \(record.block.transactions.count)"
                if txids { for tx in record.block.transactions { out += " " + tx.txid } }
                out += "\n"
                if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            if let problem = scan.tailProblem {
                FileHandle.standardError.write(Data("\(scan.height) good blocks, then \(problem)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
