/// The files of a testnet folder, by path relative to it: what the README,
/// the core.yaml files and the units refer to.
public enum TestnetLayout {
    public static let caFolder = "ca"
    public static let clientFolder = "client"
    /// Names in a TLS client certificate's wildcard: run clients with `--id-domain client.weft`.
    public static let clientDomain = "client.weft"
    /// Where a validator's folder goes on its host (the unit's state directory).
    public static let installRoot = "/var/lib/weft"
    public static let binary = "/usr/local/bin/weft"

    /// Inside a validator's folder: its TLS files and data directory (relative: core.yaml resolves them).
    public static let certificateFile = "tls/peer.pem"
    public static let keyFile = "tls/peer.key"
    public static let rootCertificateFile = "tls/ca.pem"
    public static let dataFolder = "data"

    public static func unitName(_ validator: ValidatorPlacement) -> String { "weft-\(validator.name).service" }
    public static func installFolder(_ validator: ValidatorPlacement) -> String { "\(installRoot)/\(validator.name)" }
}
