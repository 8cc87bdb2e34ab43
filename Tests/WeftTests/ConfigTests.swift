import Foundation
import Weft
import Testing

/// Configuration loading (Swift Testing: pure functions, no sockets).
@Suite struct ConfigTests {
    private var sampleCoreYAML: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("core.yaml").path
    }

    @Test func sampleCoreYAMLStatesEveryKeyAtItsDefault() throws {
        let (fromFile, sources) = try ConfigLoader.load(file: sampleCoreYAML, environment: [:], overrides: [])
        #expect(sources == [sampleCoreYAML])
        #expect(fromFile == PeerConfig(), Comment(rawValue: "the sample holds the built-in defaults"))
        let text = try String(contentsOfFile: sampleCoreYAML, encoding: .utf8)
        for key in ConfigLoader.keys {
            #expect(text.contains(" \(key.path.split(separator: ".").last!):"), Comment(rawValue: "core.yaml lacks \(key.path)"))
        }
    }

    @Test func fileThenEnvironmentThenFlags() throws {
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
        #expect(config.peerID == "from-flag")
        #expect(config.limits.maxConnections == 20)
        #expect(config.discovery.rootNodes == ["10.0.0.1:7051", "10.0.0.2:7051"])
        #expect(config.discovery.periodNanos == 250_000_000)
    }

    @Test func fabricCfgPathIsUsedWhenNoFileIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "peer:\n  id: cfg-path\n".write(toFile: dir + "/core.yaml", atomically: true, encoding: .utf8)
        #expect(try ConfigLoader.load(file: nil, environment: ["FABRIC_CFG_PATH": dir], overrides: []).0.peerID == "cfg-path")
    }

    @Test func unknownKeysAndBadValuesNameTheKey() {
        func error(_ overrides: [(String, String)], env: [String: String] = [:]) -> String {
            do { _ = try ConfigLoader.load(file: nil, environment: env, overrides: overrides); return "no error" } catch {
                return "\(error)"
            }
        }
        #expect(error([("peer.limits.maxConection", "5")]).contains("'peer.limits.maxConection': unknown key"))
        #expect(error([("peer.limits.maxConnections", "many")]).contains("'peer.limits.maxConnections'"))
        #expect(error([("peer.discovery.period", "5 parsecs")]).contains("'peer.discovery.period'"))
        #expect(error([("peer.listenAddress", "nohostport")]).contains("'peer.listenAddress'"))
        #expect(error([("peer.validator.consensus.overflow", "drop")]).contains("backpressure or reject"))
        #expect(error([], env: ["CORE_PEER_SOCKET_TCPNODELAY": "maybe"]).contains("'peer.socket.tcpNoDelay'"))
    }

    @Test func unknownKeyInAFileIsAnError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try "peer:\n  limits:\n    maxFrameSise: 10\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: file, environment: [:], overrides: []) }
        #expect(error?.key == "peer.limits.maxFrameSise", Comment(rawValue: "\(String(describing: error))"))
    }

    @Test func durations() throws {
        #expect(try ConfigLoader.parseDuration("250ms", key: "k") == 250_000_000)
        #expect(try ConfigLoader.parseDuration("1m30s", key: "k") == 90_000_000_000)
        #expect(try ConfigLoader.parseDuration("2", key: "k") == 2_000_000_000)
        #expect(throws: (any Error).self) { try ConfigLoader.parseDuration("", key: "k") }
        #expect(throws: (any Error).self) { try ConfigLoader.parseDuration("5 s", key: "k") }
    }
}
