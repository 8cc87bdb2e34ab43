import Foundation
import Weft
import WeftTools
import XCTest

/// deploy/grafana-dashboard.json charts only metrics a running peer serves.
final class DashboardTests: XCTestCase {
    func testEveryMetricTheDashboardQueriesIsServed() throws {
        let root = RepoRoot.url
        let data = try Data(contentsOf: root.appendingPathComponent("deploy/grafana-dashboard.json"))
        let dashboard = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        // Every PromQL expression: panel targets (rows may nest panels) and template queries.
        var expressions: [String] = []
        func walk(_ panels: [[String: Any]]) {
            for panel in panels {
                for target in panel["targets"] as? [[String: Any]] ?? [] { if let expr = target["expr"] as? String { expressions.append(expr) } }
                walk(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        walk(try XCTUnwrap(dashboard["panels"] as? [[String: Any]]))
        let templating = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        expressions += templating.compactMap { $0["query"] as? String }.filter { $0.contains("(") }
        XCTAssertGreaterThan(expressions.count, 20)

        let pattern = try NSRegularExpression(pattern: #"\b(?:weft|process)_[A-Za-z0-9_]+"#)
        var names = Set<String>()
        for expr in expressions {
            for match in pattern.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)) {
                names.insert(String(expr[Range(match.range, in: expr)!]))
            }
        }
        // The four areas the dashboard is for, at least.
        for needed in ["weft_peers_established", "weft_ring_depth", "weft_consenter_messages_total", "weft_ledger_fsync_duration_seconds_bucket",
                       "weft_pbft_commit_latency_seconds_bucket"] {
            XCTAssertTrue(names.contains(needed), "the dashboard does not chart \(needed)")
        }

        // A noops peer, so that the ledger's metrics are there too, with one block written.
        let peer = try PeerProcess(name: "dash", settings: ["peer.validator.consensus.noops.blockSize": "1"], consensus: "noops")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "dash-client")
        try client.write(WireClient.frame(type: .chainTransaction, payload: try {
            var tx = Protos_Transaction()
            tx.txid = "dash-1"
            return try tx.serializedBytes()
        }()))
        while try client.readMessage().type != .response {}
        // And a PBFT replica (a network of one: N=1, f=0) for the PBFT row.
        let replica = try PeerProcess(name: "vp0", settings: ["pbft.general.N": "1", "pbft.general.f": "0"], consensus: "pbft")
        func served(_ peer: PeerProcess) throws -> Set<String> {
            let metrics = try HTTPGet.fetch(peer.ops, path: "/metrics")
            return Set(metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
        }
        let noops = try served(peer), pbft = try served(replica)
        for name in names.sorted() {
            let wanted = name.hasPrefix("weft_pbft_") ? pbft : noops
            XCTAssertTrue(wanted.contains(name), "the dashboard queries \(name), which a \(name.hasPrefix("weft_pbft_") ? "pbft" : "noops") peer does not serve")
        }
        XCTAssertTrue(pbft.contains("weft_ledger_fsync_duration_seconds_count"), "the PBFT replica's ledger reports its fsyncs too")
    }
}
