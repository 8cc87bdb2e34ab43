import Foundation
import Weft
import XCTest

final class ConfigTests: XCTestCase {
    private var sampleCoreYAML: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("core.yaml").path
    }

    func testSampleCoreYAMLStatesEveryKeyAtItsDefault() throws {
        let (fromFile, sources) = try ConfigLoader.load(file: sampleCoreYAML, environment: [:], overrides: [])
        XCTAssertEqual(sources, [sampleCoreYAML])
        XCTAssertEqual(fromFile, PeerConfig(), "the sample holds the built-in defaults")
        let text = try String(contentsOfFile: sampleCoreYAML, encoding: .utf8)
        for key in ConfigLoader.keys {
            XCTAssertTrue(text.contains(" \(key.path.split(separator: ".").last!):"), "core.yaml lacks \(key.path)")
        }
    }

    func testFileThenEnvironmentThenFlags() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("core-\(UUID()).yaml").path
        try """
        peer:
          id: from-file
          discovery:
            rootnode: [10.0.0.1:7051, 10.0.0.2:7051]
            period: 250ms
          limits:
            maxConnections: 10
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let (config, _) = try ConfigLoader.load(
            file: file,
            environment: ["CORE_PEER_ID": "from-env", "CORE_PEER_LIMITS_MAXCONNECTIONS": "20"],
            overrides: [("peer.id", "from-flag")])
        XCTAssertEqual(config.peerID, "from-flag")
        XCTAssertEqual(config.limits.maxConnections, 20)
        XCTAssertEqual(config.discovery.rootNodes, ["10.0.0.1:7051", "10.0.0.2:7051"])
        XCTAssertEqual(config.discovery.periodNanos, 250_000_000)
    }

    func testFabricCfgPathIsUsedWhenNoFileIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "peer:\n  id: cfg-path\n".write(toFile: dir + "/core.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(file: nil, environment: ["FABRIC_CFG_PATH": dir], overrides: []).0.peerID, "cfg-path")
    }

    func testUnknownKeysAndBadValuesNameTheKey() {
        func error(_ overrides: [(String, String)], env: [String: String] = [:]) -> String {
            do { _ = try ConfigLoader.load(file: nil, environment: env, overrides: overrides); return "no error" } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error([("peer.limits.maxConection", "5")]).contains("'peer.limits.maxConection': unknown key"))
        XCTAssertTrue(error([("peer.limits.maxConnections", "many")]).contains("'peer.limits.maxConnections'"))
        XCTAssertTrue(error([("peer.discovery.period", "5 parsecs")]).contains("'peer.discovery.period'"))
        XCTAssertTrue(error([("peer.listenAddress", "nohostport")]).contains("'peer.listenAddress'"))
        XCTAssertTrue(error([("peer.validator.consensus.overflow", "drop")]).contains("backpressure or reject"))
        XCTAssertTrue(error([], env: ["CORE_PEER_SOCKET_TCPNODELAY": "maybe"]).contains("'peer.socket.tcpNoDelay'"))
    }

    func testUnknownKeyInAFileIsAnError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try "peer:\n  limits:\n    maxFrameSise: 10\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(file: file, environment: [:], overrides: [])) { error in
            XCTAssertTrue("\(error)".contains("peer.limits.maxFrameSise"), "\(error)")
        }
    }

    func testDurations() throws {
        XCTAssertEqual(try ConfigLoader.parseDuration("250ms", key: "k"), 250_000_000)
        XCTAssertEqual(try ConfigLoader.parseDuration("1m30s", key: "k"), 90_000_000_000)
        XCTAssertEqual(try ConfigLoader.parseDuration("2", key: "k"), 2_000_000_000)
        XCTAssertThrowsError(try ConfigLoader.parseDuration("", key: "k"))
        XCTAssertThrowsError(try ConfigLoader.parseDuration("5 s", key: "k"))
    }
}
