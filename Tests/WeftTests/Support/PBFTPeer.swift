import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// A validator process with the PBFT test settings.
struct PBFTPeer {
    let process: PeerProcess

    /// Each peer's PBFT metrics and log tail, for a failure message.
    static func describe(_ peers: [PBFTPeer]) -> String {
        peers.map { peer in
            let metrics = (try? HTTPGet.fetch(peer.process.ops, path: "/metrics")) ?? "(no metrics)"
            let pbft = metrics.split(separator: "\n").filter { ($0.hasPrefix("weft_pbft") || $0.hasPrefix("weft_chain")) && !$0.hasSuffix(" 0") }
            return "== \(peer.process.name)\n\(pbft.joined(separator: "\n"))\n\(peer.process.log.suffix(1500))"
        }.joined(separator: "\n")
    }

    static func start(_ name: String, dataDir: String? = nil, listenPort: UInt16 = 0, settings: [String: String] = [:]) throws -> PBFTPeer {
        let all = PBFTClusterTests.settings.merging(settings) { $1 }
        return PBFTPeer(process: try PeerProcess(name: name, dataDir: dataDir, listenPort: listenPort, settings: all, consensus: "pbft"))
    }
}
