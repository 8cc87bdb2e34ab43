import Foundation
import Weft
import Testing

/// FABRIC_LOGGING_SPEC, loaded (pure functions, no sockets).
@Suite struct OperationsConfigTests {
    private func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("core-ops-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func load(file: String? = nil, _ environment: [String: String] = [:], _ flags: [(String, String)] = []) throws -> PeerConfig {
        try ConfigLoader.load(file: file, environment: environment, overrides: flags).0
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
