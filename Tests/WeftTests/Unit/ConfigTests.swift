import Foundation
import Weft
import Testing

/// Configuration loading (Swift Testing: pure functions, no sockets).
@Suite struct ConfigTests {
    private var sampleCoreYAML: String {
        RepoRoot.url.appendingPathComponent("core.yaml").path
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
        defer { try? FileManager.default.removeItem(atPath: file) }
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
        defer { try? FileManager.default.removeItem(atPath: dir) }
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
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "peer:\n  limits:\n    maxFrameSise: 10\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: file, environment: [:], overrides: []) }
        #expect(error?.key == "peer.limits.maxFrameSise", Comment(rawValue: "\(String(describing: error))"))
    }

    /// Bad values of every kind of key: each refused with a `ConfigError`
    /// naming that key (never a trap, never accepted).
    @Test func badValuesOfEveryKindAreRefusedNamingTheKey() {
        let durationKeys = ConfigLoader.keys.map(\.path).filter {
            ["period", "forgetAfter", "connectTimeout", "blockTimeout", "groupCommitWindow", "delay", "idle", "interval",
             "userTimeout", "handshakeTimeout", "idleTimeout"].contains(String($0.split(separator: ".").last!))
        }
        #expect(durationKeys.count == 11)
        var table: [(String, String)] = []
        for key in durationKeys {
            for bad in ["inf", "nan", "-inf", "infinity", "-1s", "-1", "1e20s", "1e20", "1E3", "99999999999h", "400d",
                        "1.2.3s", "5 parsecs", "", "0x10", "１s"] {
                table.append((key, bad))
            }
        }
        // Zero where it means nothing (or everything at once).
        for key in ["peer.discovery.period", "peer.discovery.forgetAfter", "peer.discovery.connectTimeout",
                    "peer.validator.consensus.noops.blockTimeout", "peer.socket.keepalive.idle",
                    "peer.socket.keepalive.interval", "peer.limits.handshakeTimeout"] {
            table += [(key, "0"), (key, "0s"), (key, "0ms")]
        }
        table += [("peer.limits.handshakeTimeout", "2h"), ("peer.discovery.period", "1ms"), ("peer.limits.idleTimeout", "1ms"),
                  ("peer.socket.keepalive.idle", "1.5s"), ("peer.socket.keepalive.interval", "10h"),
                  ("peer.validator.consensus.echo.delay", "1m"), ("peer.socket.userTimeout", "2d")]
        // Sizes and counts.
        let sizes: [(String, [String])] = [
            ("peer.limits.maxConnections", ["0", "-1", "1000001", "1.5", "", "many", "99999999999999999999"]),
            ("peer.limits.maxFrameSize", ["15", "1073741825", "-4194304", "4MiB"]),
            ("peer.limits.maxPendingWrite", ["1023", "-1", "17179869185"]),
            ("peer.validator.consensus.buffersize", ["0", "16777217", "-1"]),
            ("peer.validator.consensus.noops.blockSize", ["0", "1000001"]),
            ("peer.discovery.maxPeers", ["0", "-5"]),
            ("peer.socket.sendBuffer", ["-1", "1073741825"]),
            ("peer.socket.receiveBuffer", ["-1", "2147483648"]),
            ("peer.socket.backlog", ["0", "65536"]),
            ("peer.socket.keepalive.count", ["0", "128"]),
            ("peer.socket.notSentLowat", ["-1"]),
            ("peer.socket.lingerSeconds", ["-2", "3601"]),
        ]
        for (key, values) in sizes { table += values.map { (key, $0) } }
        // Booleans.
        for key in ConfigLoader.keys.map(\.path) where ConfigLoader.keys.first(where: { $0.path == key })!.defaultText == "true"
            || ConfigLoader.keys.first(where: { $0.path == key })!.defaultText == "false" {
            table += ["maybe", "", "2", "truee", "-1"].map { (key, $0) }
        }
        // Addresses.
        for key in ["peer.listenAddress", "peer.address", "peer.operations.listenAddress"] {
            table += ["nohost", "host:99999", ":7051", "1.2.3.4:", "1.2.3.4:-1", "a b:1", "a\tb:1", "h:0x10", "/tmp/x:1"].map { (key, $0) }
        }
        table += [("peer.listenAddress", ""), ("peer.address", "10.0.0.1:0"),
                  ("peer.discovery.rootnode", "a:1,b"), ("peer.discovery.rootnode", "a:0"), ("peer.discovery.rootnode", "a:1, :2")]
        // Names and choices.
        table += [("peer.id", ""), ("peer.id", "vp 1"), ("peer.id", "vp\u{7}"), ("peer.id", String(repeating: "x", count: 257)),
                  ("peer.fileSystemPath", ""), ("peer.validator.consensus.plugin", "pbft2"),
                  ("peer.validator.consensus.overflow", "drop"), ("peer.validator.consensus.noops.sync", "never"),
                  ("logging.level", "loud")]

        for (key, bad) in table {
            var config = PeerConfig()
            do {
                try ConfigLoader.set(&config, key, bad)
                Issue.record("\(key)=\(bad) was accepted")
            } catch let error as ConfigError {
                #expect(error.key == key, "\(key)=\(bad): \(error)")
            } catch {
                Issue.record("\(key)=\(bad): \(error)")
            }
        }
    }

    /// Whatever any key is given, it is accepted or refused naming the key — never a trap.
    @Test func hostileValuesNeverCrashAnyKey() {
        let hostile = ["inf", "nan", "-inf", "-0", "-1", "-1s", "1e308", "1e20s", "18446744073709551616", "9223372036854775808",
                       "0x7fffffff", "", " ", "\u{0}", "🙂", String(repeating: "9", count: 400), "1h" + String(repeating: "9", count: 30) + "h"]
        for key in ConfigLoader.keys {
            for value in hostile {
                var config = PeerConfig()
                do { try ConfigLoader.set(&config, key.path, value) } catch let error as ConfigError {
                    #expect(error.key == key.path)
                } catch {
                    Issue.record("\(key.path)=\(value): \(error)")
                }
            }
        }
    }

    @Test func goodValuesAtTheEdgesAreAccepted() throws {
        var config = PeerConfig()
        try ConfigLoader.set(&config, "peer.limits.idleTimeout", "0")
        try ConfigLoader.set(&config, "peer.socket.userTimeout", "0")
        try ConfigLoader.set(&config, "peer.validator.consensus.echo.delay", "0s")
        try ConfigLoader.set(&config, "peer.limits.handshakeTimeout", "1h")
        try ConfigLoader.set(&config, "peer.discovery.period", "10ms")
        try ConfigLoader.set(&config, "peer.discovery.forgetAfter", "8760h")
        try ConfigLoader.set(&config, "peer.listenAddress", "[::1]:0")
        try ConfigLoader.set(&config, "peer.address", "example.org:7051")
        #expect(config.limits.handshakeTimeoutNanos == 3_600_000_000_000)
        #expect(config.discovery.periodNanos == 10_000_000)
        #expect(config.discovery.forgetAfterNanos == 8760 * 3_600_000_000_000)
    }

    @Test func durations() throws {
        #expect(try ConfigLoader.parseDuration("250ms", key: "k") == 250_000_000)
        #expect(try ConfigLoader.parseDuration("1m30s", key: "k") == 90_000_000_000)
        #expect(try ConfigLoader.parseDuration("2", key: "k") == 2_000_000_000)
        #expect(throws: (any Error).self) { try ConfigLoader.parseDuration("", key: "k") }
        #expect(throws: (any Error).self) { try ConfigLoader.parseDuration("5 s", key: "k") }
    }
}
