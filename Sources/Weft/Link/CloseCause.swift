/// Why a connection closed: the label of `weft_connections_closed_total`.
enum CloseCause: String, CaseIterable {
    case peerClosed = "peer_closed"
    case peerDisconnect = "peer_disconnect"
    case ioError = "io_error"
    case handshakeTimeout = "handshake_timeout"
    case idleTimeout = "idle_timeout"
    case frameTooLarge = "frame_too_large"
    case malformed = "malformed_frame"
    case expectedHello = "expected_hello"
    case badHello = "bad_hello"
    case selfConnection = "self_connection"
    case duplicate = "duplicate"
    case slowPeer = "slow_peer"
    case connectionLimit = "connection_limit"
    case connectFailed = "connect_failed"
    /// The TLS handshake failed: no certificate, an unknown CA, not TLS, ...
    case tlsHandshake = "tls_handshake"
    /// The name in DISC_HELLO is not the one in the peer's certificate.
    case certificateMismatch = "certificate_mismatch"
    case shutdown = "shutdown"
}
