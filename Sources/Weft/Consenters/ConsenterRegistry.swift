import Foundation
import Logging
import Glibc

/// Consenters by their `peer.validator.consensus.plugin` name.
public enum ConsenterRegistry {
    public static let names = ConsensusPlugins.names

    public static func make(_ config: PeerConfig, logger: Logger = Logger(label: "weft")) throws -> Consenter {
        switch config.consensus.plugin {
        case "echo": return EchoConsenter(delayNanos: config.consensus.echoDelayNanos)
        case "noops": return try NoopsConsenter(config: config, logger: logger)
        case "pbft": return try PBFTConsenter(config: config, logger: logger)
        default: throw ConfigError(key: "peer.validator.consensus.plugin", reason: "unknown plugin '\(config.consensus.plugin)'")
        }
    }
}
