import Glibc

/// A name a certificate is good for: a DNS name or an IP address.
public enum SubjectAltName: Equatable, Sendable {
    case dns(String)
    case ip(String)

    /// An IP address literal becomes `.ip`, anything else `.dns`.
    public init(host: String) {
        var v4 = in_addr(), v6 = in6_addr()
        let isIP = inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        self = isIP ? .ip(host) : .dns(host)
    }

    /// OpenSSL's configuration text: `DNS:vp0`, `IP:10.0.0.1`.
    var configText: String {
        switch self {
        case .dns(let name): "DNS:\(name)"
        case .ip(let address): "IP:\(address)"
        }
    }
}
