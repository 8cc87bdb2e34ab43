import ArgumentParser
import Foundation
import Weft

/// `weft ledger export`: blocks as JSON lines.
struct LedgerExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print blocks --from N --to M as JSON lines, one block a line (the shape of show --json).",
        discussion: "--to defaults to the last durable block. A range past the durable height prints the blocks there are, then fails (exit 1).")
    @OptionGroup var location: LedgerLocation
    @Option(help: "The first block.") var from: UInt64 = 0
    @Option(help: "The last block (default: the last durable one).") var to: UInt64?

    func validate() throws {
        if let to, to < from { throw ValidationError("--to \(to) is below --from \(from)") }
    }

    func run() throws {
        let reader = try location.reader()
        let height = try reader.chainInfo().height
        guard let last = to ?? (height == 0 ? nil : height - 1) else { return }   // an empty ledger: nothing to export
        var out = ""
        var number = from
        while number <= last {
            guard let bytes = try reader.blockBytes(number) else {
                FileHandle.standardOutput.write(Data(out.utf8))
                throw LedgerRangeError(number: number, height: height)
            }
            out += try BlockJSON.line(BlockJSON.object(number: number, bytes: bytes, block: try Protos_Block(serializedBytes: bytes))) + "\n"
            if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
            if number == UInt64.max { break }
            number += 1
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
