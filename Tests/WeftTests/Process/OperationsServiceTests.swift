import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// Fabric-style operations on a real peer process: /healthz (and its 503),
/// /version and weft_build_info, /logspec, process_* metrics, histograms.
final class OperationsServiceTests: XCTestCase {
    private func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(text)")
        }
        return object
    }

    /// One sample's value (a float), `name` with its labels as written.
    private func sample(_ metrics: String, _ name: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    func testHealthzVersionBuildInfoAndProcessMetrics() throws {
        let before = Date().timeIntervalSince1970
        let peer = try PeerProcess(name: "opsv", fileLimit: 3000, consensus: "noops")
        let (status, body) = try HTTPGet.request(peer.ops, path: "/healthz")
        XCTAssertEqual(status, 200, body)
        let health = try json(body)
        XCTAssertEqual(health["status"] as? String, "OK")
        let time = try XCTUnwrap(health["time"] as? String)
        let parsed = try XCTUnwrap(ISO8601DateFormatter().date(from: time.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)), time)
        XCTAssertEqual(parsed.timeIntervalSince1970, Date().timeIntervalSince1970, accuracy: 5)
        XCTAssertNil(health["failed_checks"])

        let version = try json(try HTTPGet.fetch(peer.ops, path: "/version"))
        XCTAssertEqual(version["version"] as? String, WeftVersion.text)
        XCTAssertEqual(version["commit"] as? String, WeftVersion.commit)
        XCTAssertEqual(version["swift"] as? String, WeftVersion.swift)
        // Fabric 1.4's shape beside Weft's.
        XCTAssertEqual(version["Version"] as? String, WeftVersion.text)
        XCTAssertEqual(version["CommitSHA"] as? String, WeftVersion.commit)

        let metrics = try HTTPGet.fetch(peer.ops, path: "/metrics")
        // Prometheus' build_info convention: version and commit labels, no others.
        let buildInfo = metrics.split(separator: "\n").filter { $0.hasPrefix("weft_build_info") }
        XCTAssertEqual(buildInfo, ["weft_build_info{version=\"\(WeftVersion.text)\",commit=\"\(WeftVersion.commit)\"} 1"])
        let rss = try XCTUnwrap(sample(metrics, "process_resident_memory_bytes"))
        XCTAssertGreaterThan(rss, Double(1 << 20))
        XCTAssertLessThan(rss, Double(4 << 30))
        XCTAssertEqual(sample(metrics, "process_max_fds"), 3000, "the limit the peer was started with")
        let fds = try XCTUnwrap(sample(metrics, "process_open_fds"))
        let actual = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(peer.process.processIdentifier)/fd").count
        XCTAssertEqual(fds, Double(actual), accuracy: 3)
        let start = try XCTUnwrap(sample(metrics, "process_start_time_seconds"))
        XCTAssertEqual(start, before, accuracy: 5)
        XCTAssertNotNil(sample(metrics, "process_cpu_seconds_total"))
        XCTAssertTrue(metrics.contains("# TYPE process_cpu_seconds_total counter"))
        for histogram in ["weft_consenter_delivery_duration_seconds", "weft_ledger_fsync_duration_seconds",
                          "weft_block_commit_duration_seconds"] {
            XCTAssertTrue(metrics.contains("# TYPE \(histogram) histogram"), "missing \(histogram)")
            XCTAssertNotNil(sample(metrics, histogram + "_bucket{le=\"+Inf\"}"), histogram)
        }
        XCTAssertNotNil(sample(metrics, "weft_ledger_written_bytes_total"))
        // Every counter is named *_total, and none in bytes lacks the unit.
        for line in metrics.split(separator: "\n") where line.hasPrefix("# TYPE ") && line.hasSuffix(" counter") {
            let name = line.split(separator: " ")[2]
            XCTAssertTrue(name.hasSuffix("_total"), "counter \(name)")
            if name.contains("bytes") { XCTAssertTrue(name.hasSuffix("_bytes_total"), "byte counter \(name)") }
        }
    }

    func testHistogramsCountDeliveriesFsyncsAndCommits() throws {
        let peer = try PeerProcess(name: "hist", settings: ["peer.validator.consensus.noops.blockSize": "10"], consensus: "noops")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "hist-client")
        var frames: [UInt8] = []
        for i in 0..<200 {
            var tx = Protos_Transaction()
            tx.txid = "h-\(i)"
            frames += WireClient.frame(type: .chainTransaction, payload: try tx.serializedBytes())
        }
        try client.write(frames)
        var acknowledged = 0
        while acknowledged < 200 {
            if try client.readMessage().type == .response { acknowledged += 1 }
        }
        let metrics = try HTTPGet.fetch(peer.ops, path: "/metrics")
        // 200 messages through the ring: 1 in 128 is sampled (the 1st and the 129th).
        XCTAssertEqual(sample(metrics, "weft_consenter_delivery_duration_seconds_count"), 2, metrics)
        let fsyncs = try XCTUnwrap(sample(metrics, "weft_ledger_fsync_duration_seconds_count"))
        XCTAssertGreaterThanOrEqual(fsyncs, 1)
        XCTAssertLessThanOrEqual(fsyncs, 20)
        XCTAssertEqual(sample(metrics, "weft_block_commit_duration_seconds_count"), 20, "20 blocks of 10")
        XCTAssertEqual(sample(metrics, "weft_block_commit_duration_seconds_bucket{le=\"+Inf\"}"), 20)
        let size = try FileManager.default.attributesOfItem(atPath: peer.dataDir + "/ledger/blocks")[.size] as? Int
        XCTAssertEqual(sample(metrics, "weft_ledger_written_bytes_total"), size.map(Double.init))
    }

    func testALedgerThatCannotBeWrittenMakesHealthz503() throws {
        // RLIMIT_FSIZE of 1 MiB (SIGXFSZ ignored): a 1.5 MiB block gets EFBIG.
        // Not smaller: ThreadSanitizer's runtime writes a 512 KiB file at
        // start and maps it; under a smaller limit the instrumented peer
        // (scripts/dev/sanitize.sh) dies of SIGBUS before it starts.
        let peer = try PeerProcess(name: "full-disk", fileSizeLimitBlocks: 2048, consensus: "noops")
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/healthz").0, 200)
        let (client, _) = try WireClient.handshaken(peer.listen, name: "writer")
        var tx = Protos_Transaction()
        tx.txid = "too-big"
        tx.payload = Data(repeating: 7, count: 1536 << 10)
        try client.write(WireClient.frame(type: .chainTransaction, payload: try tx.serializedBytes()))
        var answer: Protos_Response?
        while answer == nil {
            let message = try client.readMessage()
            if message.type == .response { answer = try Protos_Response(serializedBytes: message.payload) }
        }
        XCTAssertEqual(answer?.status, .failure)
        let (status, body) = try HTTPGet.request(peer.ops, path: "/healthz")
        XCTAssertEqual(status, 503, body)
        let health = try json(body)
        XCTAssertEqual(health["status"] as? String, "Service Unavailable")
        let failed = try XCTUnwrap(health["failed_checks"] as? [[String: String]], body)
        XCTAssertEqual(failed.first?["component"], "ledger", body)
        XCTAssertTrue(failed.first?["reason"]?.contains("File too large") == true, body)
        XCTAssertEqual(try peer.metric("weft_ledger_write_failures_total"), 1)
    }

    func testHealthzIs503WhileThePeerDrainsAtShutdown() throws {
        // A slow consenter (200 ms a message) with 8 messages queued: the drain takes ~1.6 s.
        let peer = try PeerProcess(name: "draining", settings: ["peer.validator.consensus.echo.delay": "200ms"])
        let (client, _) = try WireClient.handshaken(peer.listen, name: "drain-client")
        var frames: [UInt8] = []
        for i in 0..<8 { frames += WireClient.frame(type: .consensus, payload: [UInt8(i)]) }
        try client.write(frames)
        try eventually("the messages are queued") { try peer.metric("weft_ring_depth") > 0 }
        kill(peer.process.processIdentifier, SIGTERM)
        var answer = (0, "")
        try eventually(timeout: 5, "/healthz says 503 while the peer drains") {
            answer = try HTTPGet.request(peer.ops, path: "/healthz")
            return answer.0 == 503
        }
        let failed = try XCTUnwrap(try json(answer.1)["failed_checks"] as? [[String: String]], answer.1)
        XCTAssertTrue(failed.contains { $0["component"] == "consenter" && $0["reason"]?.contains("stopped") == true }, answer.1)
        try eventually(timeout: 15, "the peer exits") { !peer.process.isRunning }
        XCTAssertEqual(peer.process.terminationStatus, 0, peer.log)
    }

    func testOutOfDescriptorsTheOperationsListenerDoesNotSpin() throws {
        let peer = try PeerProcess(name: "ops-emfile", fileLimit: 48)
        guard let address = try peer.ops.resolve().first else { throw TestFailure("cannot resolve \(peer.ops!)") }
        // More connections than descriptors left: accept fails with EMFILE while they wait.
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<80 { held.append(try BlockingSocket.connect(address, timeoutSeconds: 2)) }
        try eventually("the peer runs out of descriptors") {
            (try FileManager.default.contentsOfDirectory(atPath: "/proc/\(peer.process.processIdentifier)/fd").count) >= 46
        }
        let before = try peer.cpuSeconds()
        usleep(2_000_000)
        let spent = try peer.cpuSeconds() - before
        XCTAssertLessThan(spent, 0.5, "CPU seconds in 2 s with the operations listener ready and no descriptor to accept with")
        for fd in held { close(fd) }
        held = []
        try eventually(timeout: 15, "/healthz answers again once descriptors are free") {
            try HTTPGet.request(peer.ops, path: "/healthz").0 == 200
        }
    }

    func testLogspecReadsAndChangesTheLevelAtRunTime() throws {
        let peer = try PeerProcess(name: "logspec")
        XCTAssertEqual(try json(try HTTPGet.fetch(peer.ops, path: "/logspec"))["spec"] as? String, "info")

        var (status, body) = try HTTPGet.request(peer.ops, path: "/logspec", method: "PUT", body: #"{"spec":"warning"}"#)
        XCTAssertEqual(status, 204, body)
        XCTAssertEqual(try json(try HTTPGet.fetch(peer.ops, path: "/logspec"))["spec"] as? String, "warning")
        let changed = try peer.waitForLog(containing: "log level changed by PUT /logspec")
        XCTAssertTrue(changed.contains("from=info") && changed.contains("to=warning"), changed)

        // At warning, a client that leaves (logged at info) is not logged...
        do { _ = try WireClient.handshaken(peer.listen, name: "quiet-client") }   // closed (FIN) at the end of the scope
        try eventually("the quiet client's close is counted") { try peer.metric("weft_connections_closed_total{cause=\"peer_closed\"}") == 1 }
        // ...and back at info the next one is.
        (status, body) = try HTTPGet.request(peer.ops, path: "/logspec", method: "PUT", body: #"{"spec":"info"}"#)
        XCTAssertEqual(status, 204, body)
        do { _ = try WireClient.handshaken(peer.listen, name: "loud-client") }
        try peer.waitForLog(containing: "closed loud-client")
        XCTAssertFalse(peer.log.contains("closed quiet-client"), peer.log)

        (status, body) = try HTTPGet.request(peer.ops, path: "/logspec", method: "PUT", body: #"{"spec":"loud"}"#)
        XCTAssertEqual(status, 400)
        XCTAssertTrue(body.contains("'loud' is not a log level"), body)
        (status, body) = try HTTPGet.request(peer.ops, path: "/logspec", method: "PUT", body: "debug")
        XCTAssertEqual(status, 400)
        XCTAssertTrue(body.contains("must be JSON"), body)
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/metrics", method: "PUT", body: "{}").0, 405)
    }
}
