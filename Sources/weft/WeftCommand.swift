import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

@main
struct WeftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: the peer network layer of a Hyperledger Fabric v0.6 validating peer.",
        discussion: "Start a peer with `weft node start`; see the README and core.yaml for settings.",
        version: WeftVersion.text,
        subcommands: [NodeCommand.self, TxCommand.self, LoadCommand.self, LedgerCommand.self, ConfigCommand.self, SimCommand.self,
                      VersionCommand.self, TestnetCommand.self]
    )

    /// As ArgumentParser's own, but a usage error of `weft tx` exits 2 (its
    /// documented status; the other commands keep 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if CommandLine.arguments.dropFirst().first == "tx", exitCode(for: error) == .validationFailure {
                // Thrown by run() (an unreadable payload file): the message alone, not the root's usage.
                let text = error is ValidationError ? "Error: \(message(for: error))" : fullMessage(for: error)
                FileHandle.standardError.write(Data((text + "\n").utf8))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}
