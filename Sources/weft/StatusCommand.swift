import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running peer's established peers (GET /peers).")

    @Option(help: "The peer's operations endpoint.")
    var ops = "127.0.0.1:9443"
    @Flag(help: "Print the JSON as the peer sent it.")
    var json = false

    func run() throws {
        guard let target = HostPort(ops) else { throw ValidationError("--ops: '\(ops)' is not host:port") }
        let body: String
        do { body = try HTTPGet.fetch(target, path: "/peers") } catch {
            throw ValidationError("cannot reach the operations endpoint at \(ops): \(error)")
        }
        if json { print(body, terminator: ""); return }
        print(try PeerStatusTable.render(json: body))
    }
}
