import Foundation
import Glibc
import XCTest

/// Issue 16: `weft load --acked` against a real PBFT cluster, and a short
/// nemesis campaign (scripts/nemesis.sh) where network namespaces can be made.
final class NemesisTests: XCTestCase {
    private static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    private func json(_ text: String) throws -> [String: Any] {
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("{") })
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Every acknowledged txid lands in the --acked file, each once, and each
    /// is in the (identical) ledgers exactly once; the summary's counts add up;
    /// two runs use different txids (the per-run nonce). The checker agrees.
    func testAckedFileHoldsExactlyTheAcknowledgedTransactions() throws {
        let peers = try PBFTClusterTests.cluster()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-acked-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir + "/acked", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var acknowledged = 0
        var nonces = Set<String>()
        for run in 0..<2 {
            let file = "\(dir)/acked/run\(run).txt"
            let load = try runWeft(["load", "--mode", "tx", "--target", peers[run + 1].process.listen.description, "-c", "2", "-w", "8",
                                    "-d", "1.5", "--warmup", "0", "--acked", file, "--json", "--quiet"])
            XCTAssertEqual(load.status, 0, load.output)
            let summary = try json(load.output)
            let sent = try XCTUnwrap(summary["sent"] as? Int), acked = try XCTUnwrap(summary["acknowledged"] as? Int)
            let failed = try XCTUnwrap(summary["failed"] as? Int), unanswered = try XCTUnwrap(summary["unanswered"] as? Int)
            XCTAssertGreaterThan(acked, 0)
            XCTAssertEqual(failed, 0, "\(summary)")
            XCTAssertEqual(sent, acked + failed + unanswered, "\(summary)")
            XCTAssertLessThanOrEqual(unanswered, 2 * 8, "at most the windows were in flight at the end")
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, acked, "one line per acknowledged txid")
            XCTAssertEqual(Set(lines).count, lines.count, "no txid written twice")
            // <prefix>-<nonce>-<connection>-<n>, the default prefix "load".
            for line in lines.prefix(3) { XCTAssertTrue(line.hasPrefix("load-"), line) }
            nonces.formUnion(lines.map { $0.split(separator: "-")[1].description })
            acknowledged += acked
        }
        XCTAssertEqual(nonces.count, 2, "each run its own nonce: \(nonces)")
        try eventually(timeout: 20, "the four ledgers reach the same height") {
            let heights = try peers.map { try $0.process.metric("weft_chain_height") }
            return Set(heights).count == 1 && heights[0] > 0
        }
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0) }
        let ackedLines = try (0..<2).flatMap { try String(contentsOfFile: "\(dir)/acked/run\($0).txt", encoding: .utf8).split(separator: "\n").map(String.init) }
        XCTAssertEqual(ackedLines.count, acknowledged)
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(ackedLines, in: peers[0].process.dataDir)
        // The checker's safety and acked verdicts on the same files (no events: liveness and processes fail).
        for (i, peer) in peers.enumerated() {
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/data/vp\(i)", withDestinationPath: peer.process.dataDir)
        }
        let check = try runProcess("/usr/bin/python3", [Self.scripts.appendingPathComponent("nemesis-check.py").path, dir],
                                   environment: ["WEFT_BIN": PeerProcess.binary])
        XCTAssertTrue(check.output.contains("safety: PASS"), check.output)
        XCTAssertTrue(check.output.contains("acked: PASS"), check.output)
        XCTAssertNotEqual(check.status, 0, "no samples: liveness cannot pass\n\(check.output)")
    }

    /// scripts/nemesis.sh: 4 validators in namespaces, load from 2 clients,
    /// three faults in about a minute (a kill and restart, the primary cut
    /// off, a paused validator), then the checker's four verdicts.
    func testShortNemesisCampaign() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("weft-nemesis-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, text) = try runProcess("/bin/bash", [Self.scripts.appendingPathComponent("nemesis.sh").path,
                                                          "--validators", "4", "--faults", "kill,primary,pause", "--duration", "50",
                                                          "--interval", "12", "--hold", "6", "--seed", "16", "--clients", "2",
                                                          "--window", "8", "--liveness-bound", "45", "--out", out],
                                            environment: ["WEFT_BIN": PeerProcess.binary])
        if status == 77 {
            throw XCTSkip("network namespaces unavailable: " + (text.split(separator: "\n").first { $0.contains("SKIP") }.map(String.init) ?? text))
        }
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: out + "/logs")) ?? []).sorted().map { name in
            "== \(name)\n" + ((try? String(contentsOfFile: "\(out)/logs/\(name)", encoding: .utf8)).map { String($0.suffix(1500)) } ?? "")
        }.joined(separator: "\n")
        XCTAssertEqual(status, 0, text + "\n" + logs)
        for verdict in ["safety: PASS", "acked: PASS", "liveness: PASS", "processes: PASS"] {
            XCTAssertTrue(text.contains(verdict), "\(verdict)\n\(text)")
        }
        let faults = try String(contentsOfFile: out + "/events.tsv", encoding: .utf8).split(separator: "\n").filter { $0.contains("\tfault\t") }
        XCTAssertEqual(faults.count, 3, "\(faults)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.md"))
    }
}
