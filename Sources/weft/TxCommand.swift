import ArgumentParser
import Foundation
import Glibc
import Weft

struct TxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx", abstract: "Submit transactions to a peer.", subcommands: [TxSubmitCommand.self])
}
