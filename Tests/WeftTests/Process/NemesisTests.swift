import Foundation
import Glibc
import WeftTools
import XCTest

/// Issue 16: `weft load --acked` against a real PBFT cluster, and a short
/// nemesis campaign (scripts/faults/nemesis.sh) where network namespaces can be made.
final class NemesisTests: XCTestCase {
    private static let scripts = RepoRoot.url.appendingPathComponent("scripts/faults")

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
        // Transactions still in flight when the clients stopped may commit
        // after: wait until nothing is outstanding anywhere, then for equal heights.
        try eventually(timeout: 20, "nothing outstanding and the four ledgers at the same height") {
            let outstanding = try peers.map { try $0.process.metric("weft_pbft_requests_outstanding") }
            let heights = try peers.map { try $0.process.metric("weft_chain_height") }
            return outstanding.allSatisfy { $0 == 0 } && Set(heights).count == 1 && heights[0] > 0
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

    /// scripts/faults/nemesis.sh: 4 validators in namespaces, load from 2 clients,
    /// three faults in about a minute (a kill and restart, the primary cut
    /// off, a paused validator), then the checker's five verdicts.
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
        for verdict in ["safety: PASS", "acked: PASS", "liveness: PASS", "progress: PASS", "processes: PASS"] {
            XCTAssertTrue(text.contains(verdict), "\(verdict)\n\(text)")
        }
        let faults = try String(contentsOfFile: out + "/events.tsv", encoding: .utf8).split(separator: "\n").filter { $0.contains("\tfault\t") }
        XCTAssertEqual(faults.count, 3, "\(faults)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.md"))
    }

    /// scripts/faults/nemesis.sh at N=7 (f=2) with one byzantine validator (vp6
    /// sends PREPAREs and COMMITs for digests of its own making): the primary
    /// cut off, a kill and restart, a pause, under load from three clients.
    /// Every verdict — progress per fault included — must pass among the six
    /// correct validators.
    func testSevenValidatorCampaignWithOneByzantine() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("weft-nemesis7-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, text) = try runProcess("/bin/bash", [Self.scripts.appendingPathComponent("nemesis.sh").path,
                                                          "--validators", "7", "--byzantine", "wrong-digest",
                                                          "--faults", "primary,kill,pause", "--duration", "50",
                                                          "--interval", "12", "--hold", "9", "--seed", "7", "--clients", "3",
                                                          "--window", "8", "--liveness-bound", "45", "--out", out],
                                            environment: ["WEFT_BIN": PeerProcess.binary])
        if status == 77 {
            throw XCTSkip("network namespaces unavailable: " + (text.split(separator: "\n").first { $0.contains("SKIP") }.map(String.init) ?? text))
        }
        XCTAssertEqual(status, 0, text)
        for verdict in ["safety: PASS 6 ledgers", "acked: PASS", "liveness: PASS", "progress: PASS", "processes: PASS"] {
            XCTAssertTrue(text.contains(verdict), "\(verdict)\n\(text)")
        }
        let events = try String(contentsOfFile: out + "/events.tsv", encoding: .utf8)
        XCTAssertTrue(events.contains("\tbyzantine\tvp6\twrong-digest"), events)
        XCTAssertGreaterThanOrEqual(events.split(separator: "\n").filter { $0.contains("\tfault\t") }.count, 2, events)
    }

    /// A full disk (issue 16): vp3's data directory is a 16 MiB tmpfs that is
    /// filled up under load. vp3 then acknowledges nothing, says why in its log
    /// and /healthz (503), while the other three go on committing; once space is
    /// back, a restart with the same data directory catches up, and the four
    /// ledgers are identical with every acknowledged txid in them once.
    /// Needs root (mount); skipped with the reason otherwise.
    func testAFullDiskStopsAcknowledgingSaysWhyAndARestartCatchesUp() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-fulldisk-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mount = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=16M", "tmpfs", dir])
        guard mount.status == 0 else {
            try? FileManager.default.removeItem(atPath: dir)
            throw XCTSkip("cannot mount a tmpfs (needs root): \(mount.output)")
        }
        defer {
            _ = try? runProcess("/bin/umount", ["-l", dir])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let data = dir + "/vp3"
        let first = try PBFTPeer.start("vp0")
        var peers = [first]
        for i in 1..<4 {
            peers.append(try PBFTPeer.start("vp\(i)", dataDir: i == 3 ? data : nil,
                                            settings: ["peer.discovery.rootnode": first.process.listen.description]))
        }
        try PBFTClusterTests.waitForMesh(peers)
        let client3 = try PBFTClient(peers[3].process.listen, name: "disk-client")
        let before = try client3.submit((0..<50).map { "before-\($0)" }, timeout: 30)
        XCTAssertEqual(before.succeeded.count, 50, "with space, vp3 acknowledges")

        // Fill the disk.
        let filler = dir + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let chunk = [UInt8](repeating: 0, count: 64 << 10)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)

        // Under load, vp3 runs into ENOSPC: it must never say SUCCESS from here on, and says why.
        let client0 = try PBFTClient(peers[0].process.listen, name: "healthy-client")
        let during3 = try client3.submit((0..<200).map { "full-\($0)" }, timeout: 8)
        let during0 = try client0.submit((0..<200).map { "others-\($0)" }, timeout: 30)
        XCTAssertEqual(during0.succeeded.count, 200, "the other three go on committing")
        try eventually(timeout: 20, "vp3's /healthz names the failed write") {
            let (status, body) = try HTTPGet.request(peers[3].process.ops, path: "/healthz")
            return status == 503 && (body.contains("cannot record") || body.contains("ledger"))
        }
        let log = peers[3].process.log
        XCTAssertTrue(log.contains("No space left on device"), String(log.suffix(2000)))
        XCTAssertTrue(log.contains("until restarted") || log.contains("until it is restarted"), String(log.suffix(2000)))
        // Whatever vp3 answered SUCCESS must be durable: checked against its ledger below.
        let acked3 = before.succeeded + during3.succeeded

        // Space back; the restart catches up.
        try FileManager.default.removeItem(atPath: filler)
        let old = peers[3].process
        _ = try? old.terminate()
        if old.process.isRunning { old.killHard() }
        peers[3] = try PBFTPeer.start("vp3", dataDir: data, listenPort: old.listen.port,
                                      settings: ["peer.discovery.rootnode": peers[0].process.listen.description])
        let after = try PBFTClient(peers[0].process.listen, name: "after-client").submit((0..<50).map { "after-\($0)" }, timeout: 30)
        XCTAssertEqual(after.succeeded.count, 50)
        try eventually(timeout: 40, "vp3 catches up to the others") {
            Set(try peers.map { try $0.process.metric("weft_chain_height") }).count == 1
        }
        for peer in peers { XCTAssertEqual(try peer.process.terminate(), 0, peer.process.log.suffix(1500).description) }
        try PBFTLedgers.assertIdentical(peers.map(\.process.dataDir))
        try PBFTLedgers.assertEachOnce(acked3 + during0.succeeded + after.succeeded, in: data)
    }
}
