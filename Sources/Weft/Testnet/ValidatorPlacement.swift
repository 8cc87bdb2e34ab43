/// One validator of a testnet: its name, its host and the ports it has there.
public struct ValidatorPlacement: Sendable, Equatable {
    /// vp<index>: the peer id, the PBFT replica name and the certificate's CN.
    public let name: String
    public let index: Int
    public let host: String
    public let peerPort: UInt16
    public let operationsPort: UInt16
    public let restPort: UInt16

    /// peer.address: where the other validators reach it.
    public var address: HostPort { HostPort(host: host, port: peerPort) }
    /// peer.listenAddress: every interface of its host (the advertised host may be a name or a NAT'd address).
    public var listenAddress: HostPort { HostPort(host: host.contains(":") ? "::" : "0.0.0.0", port: peerPort) }
    /// The operations and REST listeners stay on the host's loopback (they are unauthenticated).
    public var operationsAddress: HostPort { HostPort(host: "127.0.0.1", port: operationsPort) }
    public var restAddress: HostPort { HostPort(host: "127.0.0.1", port: restPort) }
}
