import Foundation

/// The operations listener's keys under Fabric 1.4's top-level `operations:`
/// section (PROTOCOL.md sections 7 and 10).
extension ConfigLoader {
    /// Fabric 1.4's name for `peer.operations.listenAddress`.
    static let operationsAddressAlias = "operations.listenAddress"

    static let operationsKeys: [ConfigKey] = {
        typealias C = PeerConfig
        func text(_ path: String, _ help: String, _ kp: WritableKeyPath<C, String> & Sendable) -> ConfigKey {
            ConfigKey(path: path, defaultText: "", help: help) { (c: inout C, v: String) throws(ConfigError) in c[keyPath: kp] = v }
        }
        func bool(_ path: String, _ help: String, _ kp: WritableKeyPath<C, Bool> & Sendable) -> ConfigKey {
            ConfigKey(path: path, defaultText: "false", help: help) { (c: inout C, v: String) throws(ConfigError) in
                c[keyPath: kp] = try parseBool(v, key: path)
            }
        }
        return [
            ConfigKey(path: operationsAddressAlias, defaultText: "",
                      help: "Fabric 1.4's name for peer.operations.listenAddress; empty = that key decides") { (c: inout C, v: String) throws(ConfigError) in
                guard !v.isEmpty else { return }
                guard HostPort(v, allowPortZero: true) != nil else { throw ConfigError(key: operationsAddressAlias, reason: "'\(v)' is not host:port") }
                c.operationsListenAddress = v
            },
            bool("operations.tls.enabled", "TLS 1.3 on the operations listener", \.operationsTLS.enabled),
            text("operations.tls.cert.file", "PEM certificate of the operations listener", \.operationsTLS.certFile),
            text("operations.tls.key.file", "PEM private key of that certificate", \.operationsTLS.keyFile),
            bool("operations.tls.clientAuthRequired", "PUT /logspec (and the reads unless openReads) needs a client certificate from clientRootCAs", \.operationsTLS.clientAuthRequired),
            ConfigKey(path: "operations.tls.clientRootCAs.files", defaultText: "",
                      help: "comma-separated PEM CAs client certificates must chain to") { (c: inout C, v: String) throws(ConfigError) in
                c.operationsTLS.clientRootCAFiles = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            },
            bool("operations.tls.openReads", "Weft: with clientAuthRequired, the GETs (/metrics, /healthz, /version, /peers, /logspec) still answer clients without a certificate", \.operationsTLS.openReads),
        ]
    }()

    /// One layer (a file, the environment, the flags) must not give both names
    /// of the operations address different values; a later layer overrides
    /// an earlier one whichever name it uses.
    static func checkOperationsAddressNames(_ layer: [(String, String)], origin: String) throws(ConfigError) {
        let primary = layer.last { $0.0 == "peer.operations.listenAddress" }?.1.trimmingCharacters(in: .whitespaces)
        guard let alias = layer.last(where: { $0.0 == operationsAddressAlias })?.1.trimmingCharacters(in: .whitespaces),
              !alias.isEmpty, let primary, primary != alias else { return }
        throw ConfigError(key: operationsAddressAlias,
                          reason: "'\(alias)' and peer.operations.listenAddress '\(primary)' (both in \(origin)) differ: set one of them")
    }

    /// Start-up checks of `operations.tls.*` that no single key can make.
    public static func checkOperationsTLS(_ config: PeerConfig) throws(ConfigError) {
        let tls = config.operationsTLS
        if tls.clientAuthRequired && !tls.enabled {
            throw ConfigError(key: "operations.tls.clientAuthRequired", reason: "needs operations.tls.enabled: true (a client certificate travels only in TLS)")
        }
        if tls.clientAuthRequired && tls.clientRootCAFiles.isEmpty {
            throw ConfigError(key: "operations.tls.clientRootCAs.files", reason: "required when operations.tls.clientAuthRequired is true")
        }
    }
}
