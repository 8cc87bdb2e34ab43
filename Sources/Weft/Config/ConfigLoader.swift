import Foundation
import Yams

/// core.yaml, then `CORE_*` environment variables, then flags (`--set key=value`
/// and the named flags), each over the one before (PROTOCOL.md section 6).
public enum ConfigLoader {
    /// Every key, in the order of the sample core.yaml.
    public static let keys: [ConfigKey] = {
        typealias C = PeerConfig
        func string(_ path: String, _ def: String, _ help: String, _ set: @escaping @Sendable (inout C, String) throws(ConfigError) -> Void) -> ConfigKey {
            ConfigKey(path: path, defaultText: def, help: help, apply: set)
        }
        func int(_ path: String, _ def: Int, _ range: ClosedRange<Int>, _ help: String, _ kp: WritableKeyPath<C, Int> & Sendable) -> ConfigKey {
            ConfigKey(path: path, defaultText: String(def), help: help) { (c: inout C, text: String) throws(ConfigError) in
                c[keyPath: kp] = try parseInt(text, key: path, range: range)
            }
        }
        func bool(_ path: String, _ def: Bool, _ help: String, _ kp: WritableKeyPath<C, Bool> & Sendable) -> ConfigKey {
            ConfigKey(path: path, defaultText: String(def), help: help) { (c: inout C, text: String) throws(ConfigError) in
                c[keyPath: kp] = try parseBool(text, key: path)
            }
        }
        /// `range` in nanoseconds; `zeroMeansOff` lets 0 through below the range.
        func duration(_ path: String, _ def: String, _ help: String, _ kp: WritableKeyPath<C, UInt64> & Sendable,
                      range: ClosedRange<UInt64>, zeroMeansOff: Bool = false) -> ConfigKey {
            ConfigKey(path: path, defaultText: def, help: help) { (c: inout C, text: String) throws(ConfigError) in
                c[keyPath: kp] = try parseDuration(text, key: path, range: range, zeroMeansOff: zeroMeansOff)
            }
        }
        let ms: UInt64 = 1_000_000, second: UInt64 = 1_000_000_000, hour = 3600 * second, day = 24 * hour
        func address(_ path: String, _ def: String, _ help: String, allowEmpty: Bool, allowPortZero: Bool = true, _ kp: WritableKeyPath<C, String> & Sendable) -> ConfigKey {
            ConfigKey(path: path, defaultText: def, help: help) { (c: inout C, text: String) throws(ConfigError) in
                if text.isEmpty && allowEmpty { c[keyPath: kp] = ""; return }
                guard HostPort(text, allowPortZero: allowPortZero) != nil else {
                    throw ConfigError(key: path, reason: "'\(text)' is not host:port" + (allowPortZero ? "" : " with a port in 1...65535"))
                }
                c[keyPath: kp] = text
            }
        }
        return [
            string("peer.id", "vp0", "this peer's name (PeerID.name), unique in the network") { (c: inout C, v: String) throws(ConfigError) in
                guard !v.isEmpty, v.utf8.count <= 256 else { throw ConfigError(key: "peer.id", reason: "must be 1 to 256 bytes") }
                guard !v.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
                    throw ConfigError(key: "peer.id", reason: "'\(v)' contains white space or control characters")
                }
                c.peerID = v
            },
            address("peer.listenAddress", "0.0.0.0:7051", "where peers connect (port 0 = any free port)", allowEmpty: false, \.listenAddress),
            address("peer.address", "", "advertised host:port; empty = listenAddress with a routable host", allowEmpty: true, allowPortZero: false, \.address),
            bool("peer.validator.enabled", true, "VALIDATOR (true) or NON_VALIDATOR (false)", \.validatorEnabled),
            string("peer.fileSystemPath", "/var/hyperledger/production", "data directory (ledger, discovery list)") { (c: inout C, v: String) throws(ConfigError) in
                guard !v.isEmpty, !v.utf8.contains(0) else { throw ConfigError(key: "peer.fileSystemPath", reason: "must be a non-empty path") }
                c.fileSystemPath = v
            },
            address("peer.operations.listenAddress", "127.0.0.1:9443", "HTTP /metrics /healthz /peers; empty = off", allowEmpty: true, \.operationsListenAddress),
            string("peer.discovery.rootnode", "", "comma-separated host:port list dialed at start") { (c: inout C, v: String) throws(ConfigError) in
                let nodes = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                for node in nodes where HostPort(node) == nil {
                    throw ConfigError(key: "peer.discovery.rootnode", reason: "'\(node)' is not host:port")
                }
                c.discovery.rootNodes = nodes
            },
            duration("peer.discovery.period", "5s", "DISC_GET_PEERS interval", \.discovery.periodNanos, range: 10 * ms...day),
            int("peer.discovery.maxPeers", 64, 1...100_000, "most established peers discovery dials up to", \.discovery.maxPeers),
            duration("peer.discovery.forgetAfter", "10m", "learned peers failing this long are forgotten", \.discovery.forgetAfterNanos, range: second...365 * day),
            bool("peer.discovery.persist", true, "keep known addresses in <fileSystemPath>/discovery/peers", \.discovery.persist),
            duration("peer.discovery.connectTimeout", "3s", "a dial that has not connected by then fails", \.discovery.connectTimeoutNanos, range: ms...hour),
            string("peer.validator.consensus.plugin", "noops", "consenter: noops | pbft | echo") { (c: inout C, v: String) throws(ConfigError) in
                guard ConsensusPlugins.names.contains(v) else {
                    throw ConfigError(key: "peer.validator.consensus.plugin", reason: "'\(v)' is not one of \(ConsensusPlugins.names.joined(separator: ", "))")
                }
                c.consensus.plugin = v
            },
            int("peer.validator.consensus.buffersize", 1000, 1...(1 << 24), "inbound ring capacity (rounded up to a power of two)", \.consensus.bufferSize),
            string("peer.validator.consensus.overflow", "backpressure", "ring full: backpressure | reject") { (c: inout C, v: String) throws(ConfigError) in
                guard let policy = PeerConfig.Overflow(rawValue: v) else {
                    throw ConfigError(key: "peer.validator.consensus.overflow", reason: "'\(v)' is not backpressure or reject")
                }
                c.consensus.overflow = policy
            },
            int("peer.validator.consensus.noops.blockSize", 500, 1...1_000_000, "transactions per block", \.consensus.noopsBlockSize),
            duration("peer.validator.consensus.noops.blockTimeout", "1s", "a partial block is cut after this long", \.consensus.noopsBlockTimeoutNanos, range: ms...day),
            string("peer.validator.consensus.noops.sync", "block", "fsync per block (block) or per group-commit window (group)") { (c: inout C, v: String) throws(ConfigError) in
                guard v == "block" || v == "group" else { throw ConfigError(key: "peer.validator.consensus.noops.sync", reason: "'\(v)' is not block or group") }
                c.consensus.noopsSync = v
            },
            duration("peer.validator.consensus.noops.groupCommitWindow", "2ms", "with sync: group, blocks cut within this window share one fsync", \.consensus.noopsGroupCommitNanos, range: 0...10 * second),
            duration("peer.validator.consensus.echo.delay", "0s", "echo consenter: time spent per message (simulates a slow consenter)", \.consensus.echoDelayNanos, range: 0...10 * second),
            bool("peer.socket.tcpNoDelay", true, "TCP_NODELAY", \.socket.tcpNoDelay),
            int("peer.socket.sendBuffer", 0, 0...(1 << 30), "SO_SNDBUF bytes; 0 = kernel default", \.socket.sendBuffer),
            int("peer.socket.receiveBuffer", 0, 0...(1 << 30), "SO_RCVBUF bytes; 0 = kernel default", \.socket.receiveBuffer),
            bool("peer.socket.keepalive.enabled", true, "SO_KEEPALIVE", \.socket.keepaliveEnabled),
            ConfigKey(path: "peer.socket.keepalive.idle", defaultText: "30s", help: "TCP_KEEPIDLE") { (c: inout C, v: String) throws(ConfigError) in
                c.socket.keepaliveIdleSeconds = try wholeSeconds(v, key: "peer.socket.keepalive.idle")
            },
            ConfigKey(path: "peer.socket.keepalive.interval", defaultText: "10s", help: "TCP_KEEPINTVL") { (c: inout C, v: String) throws(ConfigError) in
                c.socket.keepaliveIntervalSeconds = try wholeSeconds(v, key: "peer.socket.keepalive.interval")
            },
            int("peer.socket.keepalive.count", 3, 1...127, "TCP_KEEPCNT", \.socket.keepaliveCount),
            bool("peer.socket.reuseAddress", true, "SO_REUSEADDR on the listener", \.socket.reuseAddress),
            bool("peer.socket.reusePort", false, "SO_REUSEPORT on the listener", \.socket.reusePort),
            int("peer.socket.backlog", 1024, 1...65535, "listen() backlog (capped by net.core.somaxconn)", \.socket.backlog),
            ConfigKey(path: "peer.socket.userTimeout", defaultText: "0", help: "TCP_USER_TIMEOUT; 0 = off") { (c: inout C, v: String) throws(ConfigError) in
                c.socket.userTimeoutMillis = Int(try parseDuration(v, key: "peer.socket.userTimeout", range: ms...day, zeroMeansOff: true) / ms)
            },
            int("peer.socket.notSentLowat", 0, 0...(1 << 30), "TCP_NOTSENT_LOWAT bytes; 0 = off", \.socket.notSentLowat),
            int("peer.socket.lingerSeconds", -1, -1...3600, "SO_LINGER seconds; -1 = off", \.socket.lingerSeconds),
            int("peer.limits.maxConnections", 1024, 1...1_000_000, "connections past this are accepted and closed at once", \.limits.maxConnections),
            int("peer.limits.maxFrameSize", FrameFormat.defaultMaxFrameSize, 16...(1 << 30), "largest frame body accepted, bytes", \.limits.maxFrameSize),
            duration("peer.limits.handshakeTimeout", "5s", "no valid DISC_HELLO by then: close", \.limits.handshakeTimeoutNanos, range: ms...hour),
            duration("peer.limits.idleTimeout", "0s", "nothing received for this long: close; 0 = off", \.limits.idleTimeoutNanos, range: 10 * ms...365 * day, zeroMeansOff: true),
            int("peer.limits.maxPendingWrite", 16 << 20, 1024...(1 << 34), "unsent bytes per connection before it is a slow peer", \.limits.maxPendingWrite),
            int("peer.limits.readBudget", 128, 1...65536, "frames handled per connection per turn (at most a quarter of the consensus ring); the rest waits its next turn", \.limits.readBudget),
            bool("peer.tls.enabled", false, "mutual TLS 1.3 on every peer link", \.tls.enabled),
            string("peer.tls.cert.file", "", "PEM certificate of this peer (CN or a DNS SAN = peer.id), then intermediates") { (c: inout C, v: String) throws(ConfigError) in
                c.tls.certFile = v
            },
            string("peer.tls.key.file", "", "PEM private key of that certificate") { (c: inout C, v: String) throws(ConfigError) in
                c.tls.keyFile = v
            },
            string("peer.tls.rootcert.file", "", "PEM CA that every peer certificate must chain to") { (c: inout C, v: String) throws(ConfigError) in
                c.tls.rootCertFile = v
            },
            string("peer.tls.serverhostoverride", "", "dialing: name the other peer's certificate must carry (and SNI); empty = check the hello name only") { (c: inout C, v: String) throws(ConfigError) in
                c.tls.serverHostOverride = v
            },
            bool("peer.tls.clientAuthRequired", true, "inbound peers must present a certificate", \.tls.clientAuthRequired),
            int("peer.sync.blocksPerRequest", 20, 1...1000, "state transfer: most blocks in one SYNC_BLOCKS answer", \.sync.blocksPerRequest),
            duration("peer.sync.timeout", "2s", "state transfer: a source silent this long is given up for the next", \.sync.requestTimeoutNanos, range: 10 * ms...hour),
            int("pbft.general.N", 4, 1...1024, "PBFT: replicas in the network (N >= 3f+1)", \.pbft.n),
            int("pbft.general.f", 1, 0...341, "PBFT: faulty replicas tolerated", \.pbft.f),
            int("pbft.general.K", 10, 1...1_000_000, "PBFT: checkpoint period, in batches", \.pbft.k),
            int("pbft.general.logmultiplier", 4, 2...1_000, "PBFT: log window L = K x logmultiplier", \.pbft.logMultiplier),
            int("pbft.general.batchsize", 500, 1...100_000, "PBFT: requests per batch", \.pbft.batchSize),
            string("pbft.general.validators", "", "PBFT: replica names in replica-id order; empty = vp0..vp<N-1>") { (c: inout C, v: String) throws(ConfigError) in
                let names = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard Set(names).count == names.count else { throw ConfigError(key: "pbft.general.validators", reason: "names a replica twice") }
                c.pbft.validators = names
            },
            duration("pbft.general.timeout.batch", "1s", "PBFT: the primary cuts a partial batch after this long", \.pbft.batchTimeoutNanos, range: ms...hour),
            duration("pbft.general.timeout.request", "2s", "PBFT: a request outstanding this long starts a view change", \.pbft.requestTimeoutNanos, range: 10 * ms...day),
            duration("pbft.general.timeout.viewchange", "2s", "PBFT: new-view timer (doubles on each failed attempt, up to 32 times)", \.pbft.viewChangeTimeoutNanos, range: 10 * ms...day),
            duration("pbft.general.timeout.resendviewchange", "2s", "PBFT: VIEW-CHANGE resent this often until a new view", \.pbft.resendViewChangeNanos, range: 10 * ms...day),
            duration("pbft.general.timeout.nullrequest", "0s", "PBFT: the primary sends a null request when idle this long; 0 = off", \.pbft.nullRequestNanos, range: 10 * ms...day, zeroMeansOff: true),
            duration("pbft.general.timeout.broadcast", "1s", "PBFT: a send to a replica not connected is given up after this long", \.pbft.broadcastTimeoutNanos, range: ms...hour),
            int("pbft.general.maxoutstanding", 20_000, 1...10_000_000, "PBFT (Weft): at most this many of this validator's clients' transactions outstanding (received, not answered yet); one more is answered FAILURE at once", \.pbft.maxOutstanding),
            int("pbft.general.txidwindow", 1_000_000, 1_000...1_000_000_000, "PBFT (Weft): a txid among the chain's last this-many transactions is skipped as a duplicate; the same on every validator (24 bytes each in memory)", \.pbft.txidWindow),
            string("pbft.test.byzantine", "", "TEST ONLY: make this replica lie (wrong-digest | phantom-prepare | equivocate | forge-view-change | bad-blocks | lose-spread | forge-requests); empty = honest") { (c: inout C, v: String) throws(ConfigError) in
                guard v.isEmpty || PeerConfig.PBFT.byzantineModes.contains(v) else {
                    throw ConfigError(key: "pbft.test.byzantine", reason: "'\(v)' is not one of \(PeerConfig.PBFT.byzantineModes.joined(separator: ", "))")
                }
                c.pbft.byzantine = v
            },
            bool("rest.enabled", true, "Fabric v0.6's REST API (GET /chain, /chain/blocks/{n}, /transactions/{txid}, /network/peers; POST /transactions)", \.rest.enabled),
            address("rest.address", "127.0.0.1:7050", "where the REST API listens (unauthenticated: keep it local); port 0 = any free port", allowEmpty: false, \.rest.address),
            int("rest.maxConnections", 64, 1...4096, "REST connections served at once; more are answered 503", \.rest.maxConnections),
            int("rest.readQueue", 64, 1...65_536, "ledger reads waiting for the REST reader thread; more are answered 503", \.rest.readQueue),
            duration("rest.test.readDelay", "0s", "TEST ONLY: the REST reader thread sleeps this long before each ledger read", \.rest.testReadDelayNanos, range: 0...10 * second),
            string("logging.level", "info", "trace | debug | info | notice | warning | error | critical") { (c: inout C, v: String) throws(ConfigError) in
                let level = v.lowercased()
                guard LogLevels.parse(level) != nil else { throw ConfigError(key: "logging.level", reason: "'\(v)' is not a log level") }
                c.logLevel = level
            },
            string("logging.format", "text", "text (one line per event) | json (JSON lines: time, level, logger, message, fields)") { (c: inout C, v: String) throws(ConfigError) in
                guard let format = LogFormat(rawValue: v.lowercased()) else { throw ConfigError(key: "logging.format", reason: "'\(v)' is not text or json") }
                c.logFormat = format
            },
        ] + operationsKeys
    }()

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The configuration in force: defaults, then the file (`--config`, else
    /// `$FABRIC_CFG_PATH/core.yaml` if present), then the environment, then
    /// `overrides` (flags, in order).
    public static func load(file: String?, environment: [String: String], overrides: [(String, String)]) throws -> (PeerConfig, sources: [String]) {
        let loaded = try loadNoting(file: file, environment: environment, overrides: overrides)
        return (loaded.config, loaded.sources)
    }

    /// `load`, and which keys a file, a variable or a flag set (the rest are defaults).
    public static func loadNoting(file: String?, environment: [String: String], overrides: [(String, String)]) throws
        -> (config: PeerConfig, sources: [String], setKeys: Set<String>) {
        var setKeys: Set<String> = []
        var config = PeerConfig()
        var sources: [String] = []
        var path = file
        if path == nil, let dir = environment["FABRIC_CFG_PATH"], !dir.isEmpty {
            let candidate = (dir as NSString).appendingPathComponent("core.yaml")
            if FileManager.default.fileExists(atPath: candidate) { path = candidate }
        }
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(key: "--config", reason: "cannot read '\(path)'")
            }
            let pairs = try flattenYAML(text, origin: path)
            try checkOperationsAddressNames(pairs, origin: path)
            for (key, value) in pairs {
                // Relative paths in the file are taken from its folder (ConfigFilePaths).
                try set(&config, key, ConfigFilePaths.resolve(key, value, againstFolderOf: path), origin: path)
                setKeys.insert(key)
            }
            sources.append(path)
        }
        // Fabric's FABRIC_LOGGING_SPEC, under CORE_LOGGING_LEVEL (set below) and the flags.
        if let spec = environment[FabricLoggingSpec.variable], let level = try FabricLoggingSpec(spec).level {
            config.logLevel = level.rawValue
            setKeys.insert("logging.level")
        }
        try checkOperationsAddressNames(keys.compactMap { key in environment[key.environmentName].map { (key.path, $0) } }, origin: "the environment")
        for key in keys {
            if let value = environment[key.environmentName] { try set(&config, key.path, value, origin: key.environmentName); setKeys.insert(key.path) }
        }
        try checkOperationsAddressNames(overrides, origin: "the flags")
        for (key, value) in overrides { try set(&config, key, value, origin: "flag"); setKeys.insert(key) }
        try checkOperationsTLS(config)
        return (config, sources, setKeys)
    }

    /// `CORE_*` variables that name no key (reported as warnings: other tools share the prefix).
    public static func unknownEnvironment(_ environment: [String: String]) -> [String] {
        let known = Set(keys.map(\.environmentName))
        return environment.keys.filter { $0.hasPrefix("CORE_") && !known.contains($0) }.sorted()
    }

    public static func set(_ config: inout PeerConfig, _ path: String, _ value: String, origin: String = "") throws {
        guard let key = byPath[path] else {
            throw ConfigError(key: path, reason: "unknown key" + (origin.isEmpty ? "" : " (in \(origin))"))
        }
        try key.apply(&config, value.trimmingCharacters(in: .whitespaces))
    }

    /// Scalars of a YAML document as dotted paths; a list becomes a comma list.
    static func flattenYAML(_ text: String, origin: String) throws -> [(String, String)] {
        let root: Yams.Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigError(key: origin, reason: "not valid YAML: \(error)")
        }
        var out: [(String, String)] = []
        func walk(_ node: Yams.Node, _ path: String) throws {
            switch node {
            case .mapping(let mapping):
                for (k, v) in mapping {
                    guard let name = k.string else { throw ConfigError(key: path, reason: "a key is not a string") }
                    try walk(v, path.isEmpty ? name : path + "." + name)
                }
            case .sequence(let seq):
                out.append((path, seq.compactMap { $0.string }.joined(separator: ",")))
            case .scalar(let scalar):
                if path.isEmpty { throw ConfigError(key: origin, reason: "the document is not a mapping") }
                out.append((path, scalar.string == "~" || scalar.string == "null" ? "" : scalar.string))
            case .alias:
                throw ConfigError(key: path, reason: "YAML aliases are not supported")
            }
        }
        if let root { try walk(root, "") }
        return out
    }

    // MARK: value parsers

    static func parseInt(_ text: String, key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let v = Int(text.replacingOccurrences(of: "_", with: "")) else { throw ConfigError(key: key, reason: "'\(text)' is not a whole number") }
        guard range.contains(v) else { throw ConfigError(key: key, reason: "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    static func parseBool(_ text: String, key: String) throws(ConfigError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigError(key: key, reason: "'\(text)' is not true or false")
        }
    }

    /// The longest duration any key takes (also keeps `now + duration` far from overflow).
    public static let maxDurationNanos: UInt64 = 365 * 24 * 3_600_000_000_000

    /// A duration in `range` (nanoseconds), or 0 when `zeroMeansOff`.
    public static func parseDuration(_ text: String, key: String, range: ClosedRange<UInt64>,
                                     zeroMeansOff: Bool = false) throws(ConfigError) -> UInt64 {
        let nanos = try parseDuration(text, key: key)
        if nanos == 0 && zeroMeansOff { return 0 }
        guard range.contains(nanos) else {
            let off = zeroMeansOff ? " (or 0 = off)" : ""
            throw ConfigError(key: key, reason: "'\(text)' is outside \(formatDuration(range.lowerBound))...\(formatDuration(range.upperBound))\(off)")
        }
        return nanos
    }

    /// Go-style durations: `250ms`, `5s`, `10m`, `1h30m`, `1.5s`; a bare number
    /// is seconds. Never negative, never more than `maxDurationNanos` (a year);
    /// `inf`, `nan` and exponents are refused.
    public static func parseDuration(_ text: String, key: String) throws(ConfigError) -> UInt64 {
        let bad = ConfigError(key: key, reason: "'\(text)' is not a duration like 250ms, 5s, 10m")
        let tooLong = ConfigError(key: key, reason: "'\(text)' is longer than a year")
        func nanos(_ value: Double) throws(ConfigError) -> UInt64 {
            guard value.isFinite, value >= 0 else { throw bad }
            guard value <= Double(maxDurationNanos) else { throw tooLong }
            return UInt64(value)
        }
        // A bare number: digits and at most one point (no sign, exponent, inf or nan).
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            guard let seconds = Double(text) else { throw bad }
            return try nanos(seconds * 1e9)
        }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { throw bad }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { throw bad }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { throw bad }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
            guard total.isFinite, total <= Double(maxDurationNanos) else { throw tooLong }
        }
        return try nanos(total)
    }

    /// `1500000000` → `1.5s`, for messages.
    static func formatDuration(_ nanos: UInt64) -> String {
        for (unit, size) in [("d", 86_400_000_000_000 as UInt64), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
                             ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] where nanos >= size {
            return nanos % size == 0 ? "\(nanos / size)\(unit)" : "\(Double(nanos) / Double(size))\(unit)"
        }
        return "\(nanos)ns"
    }

    static func wholeSeconds(_ text: String, key: String) throws(ConfigError) -> Int {
        let nanos = try parseDuration(text, key: key)
        guard nanos >= 1_000_000_000, nanos % 1_000_000_000 == 0, nanos <= 32_767_000_000_000 else {
            throw ConfigError(key: key, reason: "'\(text)' must be whole seconds, at least 1s")
        }
        return Int(nanos / 1_000_000_000)
    }
}
