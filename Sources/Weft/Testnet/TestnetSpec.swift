/// What `weft testnet` was asked for.
public struct TestnetSpec: Sendable, Equatable {
    /// Validators vp0..vp<N-1>.
    public var validators: Int
    /// One host:port per validator, or one for all (they then get consecutive peer ports).
    public var hosts: [HostPort]
    /// Consenter of every validator: pbft (N >= 4) or noops.
    public var consensus: String
    /// Mutual TLS 1.3 on peer links, with certificates made for each validator and a client.
    public var tls: Bool
    /// The first validator on a host gets these operations and REST ports, the next one each +1.
    public var operationsPort: UInt16
    public var restPort: UInt16

    public init(validators: Int, hosts: [HostPort], consensus: String = "pbft", tls: Bool = false,
                operationsPort: UInt16 = 9443, restPort: UInt16 = 7050) {
        self.validators = validators
        self.hosts = hosts
        self.consensus = consensus
        self.tls = tls
        self.operationsPort = operationsPort
        self.restPort = restPort
    }

    /// `H1:P1,H2:P2,...` as host:port values, or the error naming the bad one.
    public static func parseHosts(_ text: String) throws(TestnetError) -> [HostPort] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var hosts: [HostPort] = []
        for item in items {
            guard let host = HostPort(item) else {
                throw TestnetError("--hosts: '\(item)' is not host:port (a host name or IP address, a port 1...65535; IPv6 as [addr]:port)")
            }
            hosts.append(host)
        }
        return hosts
    }
}
