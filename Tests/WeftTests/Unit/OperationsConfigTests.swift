import Foundation
import Weft
import Testing

/// Fabric 1.4's operations keys and FABRIC_LOGGING_SPEC, loaded (pure functions, no sockets).
@Suite struct OperationsConfigTests {
    private func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("core-ops-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func load(file: String? = nil, _ environment: [String: String] = [:], _ flags: [(String, String)] = []) throws -> PeerConfig {
        try ConfigLoader.load(file: file, environment: environment, overrides: flags).0
    }

    @Test func fabricsOperationsListenAddressIsAnotherNameForPeers() throws {
        #expect(try load(["CORE_OPERATIONS_LISTENADDRESS": "127.0.0.1:9555"]).operationsListenAddress == "127.0.0.1:9555")
        let fabricStyle = try file("operations:\n  listenAddress: 0.0.0.0:9444\n")
        #expect(try load(file: fabricStyle).operationsListenAddress == "0.0.0.0:9444")
        // A later layer overrides an earlier one, whichever name each uses.
        #expect(try load(file: fabricStyle, ["CORE_PEER_OPERATIONS_LISTENADDRESS": "127.0.0.1:9001"]).operationsListenAddress == "127.0.0.1:9001")
        #expect(try load(file: fabricStyle, [:], [("peer.operations.listenAddress", "")]).operationsListenAddress == "")
        // Both names alike in one place are fine.
        let same = try file("peer:\n  operations:\n    listenAddress: 0.0.0.0:9444\noperations:\n  listenAddress: 0.0.0.0:9444\n")
        #expect(try load(file: same).operationsListenAddress == "0.0.0.0:9444")
    }

    @Test func bothOperationsAddressNamesDifferentInOnePlaceIsAnErrorNamingBoth() throws {
        let both = try file("peer:\n  operations:\n    listenAddress: 127.0.0.1:9443\noperations:\n  listenAddress: 0.0.0.0:9444\n")
        let error = #expect(throws: ConfigError.self) { try load(file: both) }
        #expect(error?.key == "operations.listenAddress")
        #expect(error?.reason.contains("peer.operations.listenAddress") == true)
        let fromEnvironment = #expect(throws: ConfigError.self) {
            try load(["CORE_OPERATIONS_LISTENADDRESS": "0.0.0.0:9444", "CORE_PEER_OPERATIONS_LISTENADDRESS": "127.0.0.1:9443"])
        }
        #expect(fromEnvironment?.reason.contains("peer.operations.listenAddress") == true)
        #expect(throws: ConfigError.self) { try load([:], [("operations.listenAddress", "a:1"), ("peer.operations.listenAddress", "b:2")]) }
        let notAnAddress = #expect(throws: ConfigError.self) { try load(["CORE_OPERATIONS_LISTENADDRESS": "nowhere"]) }
        #expect(notAnAddress?.key == "operations.listenAddress")
    }

    @Test func operationsTLSKeysLoadFromFabricsLayout() throws {
        let path = try file("""
        operations:
          tls:
            enabled: true
            cert:
              file: /etc/ops.pem
            key:
              file: /etc/ops.key
            clientAuthRequired: true
            clientRootCAs:
              files: [/etc/ca1.pem, /etc/ca2.pem]
        """)
        let tls = try load(file: path).operationsTLS
        #expect(tls.enabled && tls.clientAuthRequired && !tls.openReads)
        #expect(tls.certFile == "/etc/ops.pem" && tls.keyFile == "/etc/ops.key")
        #expect(tls.clientRootCAFiles == ["/etc/ca1.pem", "/etc/ca2.pem"])
        let env = try load(file: path, ["CORE_OPERATIONS_TLS_OPENREADS": "true", "CORE_OPERATIONS_TLS_CLIENTROOTCAS_FILES": "/a.pem"]).operationsTLS
        #expect(env.openReads && env.clientRootCAFiles == ["/a.pem"])
    }

    @Test func clientAuthWithoutTLSOrWithoutCAsIsRefused() throws {
        let noTLS = #expect(throws: ConfigError.self) { try load(["CORE_OPERATIONS_TLS_CLIENTAUTHREQUIRED": "true"]) }
        #expect(noTLS?.key == "operations.tls.clientAuthRequired")
        let noCAs = #expect(throws: ConfigError.self) {
            try load(["CORE_OPERATIONS_TLS_ENABLED": "true", "CORE_OPERATIONS_TLS_CLIENTAUTHREQUIRED": "true"])
        }
        #expect(noCAs?.key == "operations.tls.clientRootCAs.files")
    }

    @Test func fabricLoggingSpecSetsTheLevelUnderCoreLoggingLevelAndFlags() throws {
        #expect(try load(["FABRIC_LOGGING_SPEC": "WARNING"]).logLevel == "warning")
        #expect(try load(["FABRIC_LOGGING_SPEC": "warn"]).logLevel == "warning")
        #expect(try load(["FABRIC_LOGGING_SPEC": "info:gossip,msp=debug:grpc=error"]).logLevel == "info")
        #expect(try load(["FABRIC_LOGGING_SPEC": "gossip=debug"]).logLevel == "info", "no bare level: the default stays")
        let debugFile = try file("logging:\n  level: debug\n")
        #expect(try load(file: debugFile, ["FABRIC_LOGGING_SPEC": "error"]).logLevel == "error", "over core.yaml")
        #expect(try load(["FABRIC_LOGGING_SPEC": "error", "CORE_LOGGING_LEVEL": "notice"]).logLevel == "notice", "under CORE_LOGGING_LEVEL")
        #expect(try load(["FABRIC_LOGGING_SPEC": "error"], [("logging.level", "trace")]).logLevel == "trace", "under --log-level")
        let bad = #expect(throws: ConfigError.self) { try load(["FABRIC_LOGGING_SPEC": "info:gossip=loud"]) }
        #expect(bad?.key == "FABRIC_LOGGING_SPEC")
        #expect(bad?.reason.contains("'loud'") == true)
    }

    @Test func fabricLoggingSpecNamesTheTermsItIgnores() throws {
        let spec = try FabricLoggingSpec("fatal:gossip,msp=debug: :grpc=error")
        #expect(spec.level == .critical)
        #expect(spec.ignoredTerms == ["gossip,msp=debug", "grpc=error"])
        #expect(spec.warnings.count == 2 && spec.warnings[0].contains("'gossip,msp=debug'"))
        #expect(try FabricLoggingSpec("dpanic").level == .critical)
    }
}
