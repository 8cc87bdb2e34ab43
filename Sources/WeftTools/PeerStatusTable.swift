import Foundation
import Glibc
import Weft

/// `weft node status` output.
public enum PeerStatusTable {
    public static func render(json: String) throws -> String {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let peers = object["peers"] as? [[String: Any]] else {
            throw HTTPGet.Failure(description: "unexpected /peers answer")
        }
        let header = ["NAME", "ADDRESS", "TYPE", "DIRECTION", "SINCE", "BYTES IN", "BYTES OUT"]
        let rows = peers.map { p in
            ["name", "address", "type", "direction", "since", "bytesIn", "bytesOut"].map { "\(p[$0] ?? "")" }
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        let me = object["peer"] as? String ?? "?"
        return (["peer \(me): \(peers.count) established", line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
