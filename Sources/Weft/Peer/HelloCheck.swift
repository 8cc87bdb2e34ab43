/// The checks a DISC_HELLO must pass (PROTOCOL.md section 2).
public enum HelloCheck {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case undecodable, emptyName, nameTooLong(Int), badAddress(String)
        public var description: String {
            switch self {
            case .undecodable: return "payload is not a HelloMessage"
            case .emptyName: return "ID.name is empty"
            case .nameTooLong(let n): return "ID.name is \(n) bytes (at most 256)"
            case .badAddress(let a): return "address '\(a)' is not host:port"
            }
        }
    }

    /// The sender's endpoint, or why the hello is invalid. UTF-8 in the name
    /// is checked by the protobuf decoder (proto3 strings must be UTF-8).
    public static func validate(_ payload: UnsafeRawBufferPointer) -> Result<Protos_PeerEndpoint, Problem> {
        guard let hello = try? Protos_HelloMessage(serializedBytes: Array(payload)) else { return .failure(.undecodable) }
        let endpoint = hello.peerEndpoint
        let nameBytes = endpoint.id.name.utf8.count
        if nameBytes == 0 { return .failure(.emptyName) }
        if nameBytes > 256 { return .failure(.nameTooLong(nameBytes)) }
        if HostPort(endpoint.address) == nil { return .failure(.badAddress(String(endpoint.address.prefix(64)))) }
        return .success(endpoint)
    }
}
