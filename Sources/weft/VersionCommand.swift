import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    @Flag(help: "Print version, commit and Swift version as JSON (what GET /version answers).")
    var json = false

    func run() {
        if json {
            print(#"{"commit":"\#(WeftVersion.commit)","swift":"\#(WeftVersion.swift)","version":"\#(WeftVersion.text)"}"#)
            return
        }
        print("weft \(WeftVersion.text) (commit \(WeftVersion.commit), Swift \(WeftVersion.swift); protocol: Fabric v0.6 peer messages, framed)")
    }
}
