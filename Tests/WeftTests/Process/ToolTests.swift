import Foundation
import Weft
import XCTest

/// The command line as operators use it: the load tool and start-up errors.
final class ToolTests: XCTestCase {
    private func json(_ text: String) throws -> [String: Any] {
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("{") })
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testLoadReportsEchoesWithTheDocumentedKeys() throws {
        let peer = try PeerProcess(name: "loaded")
        let run = try runWeft(["load", "--target", peer.listen.description, "-c", "2", "-w", "4", "-s", "64",
                               "-d", "1", "--warmup", "0.2", "--json", "--quiet"])
        XCTAssertEqual(run.status, 0, run.output)
        let result = try json(run.output)
        for key in ["msgs_per_s", "mb_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "sent", "received", "errors", "connections"] {
            XCTAssertNotNil(result[key], "missing \(key)")
        }
        XCTAssertGreaterThan(result["msgs_per_s"] as? Double ?? 0, 0)
        XCTAssertEqual(result["errors"] as? Int, 0)
        XCTAssertEqual(result["connections"] as? Int, 2)
        let sent = result["sent"] as? Int ?? 0, received = result["received"] as? Int ?? -1
        XCTAssertLessThanOrEqual(sent - received, 2 * 4, "at most the windows are in flight at the end")
    }

    func testLoadInTransactionModeAgainstNoops() throws {
        let peer = try PeerProcess(name: "tx-loaded", settings: ["peer.validator.consensus.noops.blockSize": "8"], consensus: "noops")
        let run = try runWeft(["load", "--target", peer.listen.description, "--mode", "tx", "-c", "2", "-w", "4",
                               "-d", "1", "--warmup", "0", "--json", "--quiet"])
        XCTAssertEqual(run.status, 0, run.output)
        let result = try json(run.output)
        XCTAssertGreaterThan(result["received"] as? Int ?? 0, 0)
        XCTAssertEqual(result["errors"] as? Int, 0)
    }

    func testLoadFailsWhenNothingAnswers() throws {
        let port = try TestSockets.freePorts(1)[0]
        let run = try runWeft(["load", "--target", "127.0.0.1:\(port)", "-c", "1", "-d", "0.5", "--warmup", "0", "--quiet"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.contains("cannot connect"), run.output)
    }

    func testStartUpRefusesAnUnknownKeyOrABadValueNamingIt() throws {
        let unknown = try runWeft(["node", "start", "--set", "peer.limits.maxConection=5"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("peer.limits.maxConection"), unknown.output)
        let bad = try runProcess(PeerProcess.binary, ["node", "start"], environment: ["CORE_PEER_DISCOVERY_PERIOD": "soon"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("peer.discovery.period"), bad.output)
    }

    /// A bad value refuses start with the key named and the usage exit code
    /// (64, as for every config error) — before the fix `inf` crashed the
    /// peer with SIGILL (exit 132) converting it to nanoseconds.
    func testStartUpRefusesOutOfRangeValuesWithTheConfigExitCode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-range-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "", "--data-dir", dir]
        let cases: [(env: [String: String], flags: [String], key: String)] = [
            (["CORE_PEER_LIMITS_HANDSHAKETIMEOUT": "inf"], [], "peer.limits.handshakeTimeout"),
            (["CORE_PEER_LIMITS_IDLETIMEOUT": "1e20s"], [], "peer.limits.idleTimeout"),
            ([:], ["--set", "peer.discovery.period=0"], "peer.discovery.period"),
            ([:], ["--set", "peer.socket.keepalive.idle=nan"], "peer.socket.keepalive.idle"),
            ([:], ["--set", "peer.limits.maxConnections=-1"], "peer.limits.maxConnections"),
            ([:], ["--address", "10.0.0.1:0"], "peer.address"),
        ]
        for c in cases {
            let run = try runProcess(PeerProcess.binary, base + c.flags, environment: c.env)
            XCTAssertEqual(run.status, 64, "\(c): \(run.output)")
            XCTAssertTrue(run.output.contains("config key '\(c.key)'"), "\(c): \(run.output)")
        }
    }

    func testConfigListsEveryKeyWithItsDefault() throws {
        let run = try runWeft(["config"])
        XCTAssertEqual(run.status, 0, run.output)
        for key in ConfigLoader.keys {
            XCTAssertTrue(run.output.contains("\(key.path)  (\(key.environmentName), default"), "missing \(key.path)")
        }
        XCTAssertTrue(run.output.contains("peer.limits.maxFrameSize  (CORE_PEER_LIMITS_MAXFRAMESIZE, default 4194304)"))
    }

    func testAnUnreadableConfigFileIsNamed() throws {
        let run = try runWeft(["node", "start", "--config", "/nonexistent/core.yaml"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("cannot read '/nonexistent/core.yaml'"), run.output)
    }
}
