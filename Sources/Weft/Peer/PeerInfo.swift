import Dispatch

/// An established peer.
public struct PeerInfo: Sendable, Equatable {
    public let id: PeerID
    public let address: String
    public let type: PeerType
    /// With TLS on: the certificate this peer presented in its handshake
    /// (DER), verified against `peer.tls.rootcert.file` and naming `name`.
    /// A consenter checks signatures of messages that claim to come from
    /// this peer against it (`SignatureVerifier(certificateDER:)`). Nil
    /// without TLS.
    public var certificate: [UInt8]? = nil
    public var name: String { id.name }
}
