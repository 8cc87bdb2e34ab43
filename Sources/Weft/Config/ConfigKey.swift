import Foundation
import Yams

/// A config key: its dotted path, its default as text, and how a text value
/// is checked and stored.
public struct ConfigKey: Sendable {
    public let path: String
    public let defaultText: String
    public let help: String
    let apply: @Sendable (inout PeerConfig, String) throws(ConfigError) -> Void

    /// `CORE_` + the path upper-cased with `_` for `.`.
    public var environmentName: String { "CORE_" + path.uppercased().replacingOccurrences(of: ".", with: "_") }
}
