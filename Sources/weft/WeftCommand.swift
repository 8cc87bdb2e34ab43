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
        subcommands: [NodeCommand.self, LoadCommand.self, LedgerCommand.self, ConfigCommand.self, SimCommand.self, VersionCommand.self]
    )
}
