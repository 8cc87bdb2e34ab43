import Foundation
import Weft
import WeftTools
import XCTest

/// The operations endpoint, scraped over HTTP like Prometheus and an operator would.
final class OperationsTests: XCTestCase {
    func testMetricsHealthzAndPeersAreServed() throws {
        let peer = try PeerProcess(name: "ops")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "watched")
        try client.echoCheck(count: 10, tag: 1)
        let metrics = try HTTPGet.fetch(peer.ops, path: "/metrics")
        for name in ["weft_frames_in_total", "weft_frames_out_total", "weft_received_bytes_total", "weft_sent_bytes_total",
                     "weft_connections_open", "weft_connections_accepted_total", "weft_connections_closed_total",
                     "weft_peers_established", "weft_ring_depth", "weft_ring_capacity", "weft_ring_full_total",
                     "weft_messages_rejected_total", "weft_consenter_messages_total", "weft_slow_peers_disconnected_total",
                     "weft_decode_errors_total"] {
            XCTAssertTrue(metrics.contains("# TYPE \(name) "), "missing \(name)")
        }
        XCTAssertEqual(try peer.metric("weft_ring_capacity"), 1024)
        XCTAssertEqual(try peer.metric("weft_consenter_messages_total"), 10)
        XCTAssertEqual(try peer.metric("weft_frames_in_total"), 11)

        let health = try JSONSerialization.jsonObject(with: Data(try HTTPGet.fetch(peer.ops, path: "/healthz").utf8)) as? [String: Any]
        XCTAssertEqual(health?["status"] as? String, "OK")
        XCTAssertEqual(health?["peer"] as? String, "ops")
        XCTAssertEqual(health?["peers"] as? Int, 1)

        let status = try runWeft(["node", "status", "--ops", peer.ops.description])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("peer ops: 1 established"), status.output)
        XCTAssertTrue(status.output.contains("watched"), status.output)

        let (code, _) = try HTTPGet.request(peer.ops, path: "/nowhere")
        XCTAssertEqual(code, 404)
    }
}
