/// What to do with a valid DISC_HELLO (PROTOCOL.md section 2), decided from
/// facts alone: the name it claims, the connection it came on, the link
/// already established to that name, and what TLS proved. No I/O, no state:
/// the peer layer carries the verdict out.
enum HelloDecision {
    /// What TLS says about the claimed name.
    enum Identity: Equatable {
        /// TLS is off: nothing to check.
        case plain
        /// TLS without a client certificate (`clientAuthRequired: false`): unproven.
        case unproven
        /// The verified certificate carries the name (CN or DNS SAN).
        case certified
        /// The verified certificate does not carry the name.
        case mismatched
    }

    /// What TLS proved about the name a DISC_HELLO claims (`tls` nil: TLS is off).
    static func identity(of tls: TLSSession?, claiming name: String) -> Identity {
        guard let tls else { return .plain }
        guard tls.hasPeerCertificate else { return .unproven }   // inbound with peer.tls.clientAuthRequired false
        return tls.peerCertificateNames(name) ? .certified : .mismatched
    }

    /// The link already established to the claimed name.
    struct Existing: Equatable {
        let handle: ConnectionHandle
        let direction: Connection.Direction
    }

    enum Verdict: Equatable {
        /// Register the peer on this connection.
        case accept
        /// Register it on this connection and say goodbye to `existing` (a duplicate).
        case replace(ConnectionHandle)
        /// Send DISC_DISCONNECT `reason`, close, count as `cause`.
        case refuse(CloseCause, reason: String, detail: String)
    }

    static func decide(selfName: String, claimed name: String, direction: Connection.Direction,
                       existing: Existing?, identity: Identity) -> Verdict {
        if identity == .mismatched {
            return .refuse(.certificateMismatch, reason: "hello name does not match the TLS certificate",
                           detail: "DISC_HELLO names '\(name)', which its TLS certificate does not carry (CN or DNS SAN)")
        }
        if name == selfName {
            return .refuse(.selfConnection, reason: "self connection", detail: "connected to itself")
        }
        guard let existing else { return .accept }
        if keepsExisting(selfName: selfName, peerName: name, existing: existing.direction, new: direction) {
            return .refuse(.duplicate, reason: "duplicate connection",
                           detail: "already connected to \(name) (\(existing.direction.rawValue))")
        }
        return .replace(existing.handle)
    }

    /// Two connections to one peer: keep the one dialed by the peer whose name
    /// sorts lower (byte order); both sides decide the same on their own. Two
    /// in the same direction (a peer reconnecting): the existing one stays.
    static func keepsExisting(selfName: String, peerName: String, existing: Connection.Direction,
                              new: Connection.Direction) -> Bool {
        guard existing != new else { return true }
        let lowerIsSelf = Array(selfName.utf8).lexicographicallyPrecedes(Array(peerName.utf8))
        let kept: Connection.Direction = lowerIsSelf ? .outbound : .inbound
        return existing == kept
    }
}
