import Logging

/// Fabric 1.4's `FABRIC_LOGGING_SPEC`: `[<logger>[,<logger>...]=]<level>[:...]`,
/// e.g. `info:gossip,msp=debug`. Weft has one level for every logger: a bare
/// level becomes `logging.level`; a term naming loggers is reported and
/// ignored. Precedence (PROTOCOL.md section 6): core.yaml's `logging.level`,
/// then this variable, then `CORE_LOGGING_LEVEL`, then `--log-level`.
public struct FabricLoggingSpec: Sendable, Equatable {
    public static let variable = "FABRIC_LOGGING_SPEC"

    /// The default level (the last bare level in the spec), if any.
    public let level: Logger.Level?
    /// The `logger=level` terms that Weft cannot apply, as written.
    public let ignoredTerms: [String]

    /// An unknown level anywhere is an error naming the variable.
    public init(_ text: String) throws(ConfigError) {
        var level: Logger.Level?
        var ignored: [String] = []
        for raw in text.split(separator: ":") {
            let term = raw.trimmingCharacters(in: .whitespaces)
            guard !term.isEmpty else { continue }
            let levelText = term.split(separator: "=", omittingEmptySubsequences: false).last.map(String.init) ?? term
            guard let parsed = FabricLoggingSpec.parseLevel(levelText) else {
                throw ConfigError(key: FabricLoggingSpec.variable, reason: "'\(levelText)' in '\(text)' is not a log level (debug, info, warn, error, dpanic, panic, fatal)")
            }
            if term.contains("=") { ignored.append(term) } else { level = parsed }
        }
        self.level = level
        ignoredTerms = ignored
    }

    /// Fabric's (zap's) names as well as swift-log's; case does not matter.
    static func parseLevel(_ text: String) -> Logger.Level? {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        return name == "dpanic" ? .critical : LogLevels.parse(name)
    }

    /// The warning for each ignored term.
    public var warnings: [String] {
        ignoredTerms.map { "\(FabricLoggingSpec.variable): '\($0)' sets the level of named loggers; Weft has one level for all of them, so it is ignored" }
    }
}
