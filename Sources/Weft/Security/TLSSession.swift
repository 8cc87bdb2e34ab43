import COpenSSL

/// TLS on one connection, as a pure byte transformer: ciphertext read from
/// the socket is fed in, plaintext comes out; plaintext written goes in,
/// ciphertext to send comes out. OpenSSL never touches the socket (memory
/// BIOs), so the reactor keeps its own non-blocking reads and gathered
/// `sendmsg` with MSG_NOSIGNAL, and a handshake never blocks it.
///
/// Owned by one thread (the reactor, or a load worker).
package final class TLSSession {
    package enum Role { case server, client }

    /// The most plaintext one TLS record carries.
    package static let maxRecordSize = 16 * 1024

    package enum Progress: Equatable {
        case done
        /// Needs more bytes from the other side.
        case inProgress
        case failed(String)
    }

    package enum ReadResult: Equatable {
        case bytes(Int)
        /// No whole record buffered: feed more ciphertext.
        case needInput
        /// The other side sent close_notify.
        case closed
        case failed(String)
    }

    private let ssl: OpaquePointer
    /// Ciphertext from the socket, read by OpenSSL.
    private let input: OpaquePointer
    /// Ciphertext written by OpenSSL, to be sent.
    private let output: OpaquePointer

    package init(context: TLSContext, role: Role) throws(TLSFailure) {
        guard let ssl = SSL_new(context.context) else { throw TLSFailure("SSL_new: \(TLSContext.takeErrors())") }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSFailure("BIO_new: \(TLSContext.takeErrors())")
        }
        self.ssl = ssl
        self.input = input
        self.output = output
        SSL_set_bio(ssl, input, output)           // the SSL owns both BIOs from here
        switch role {
        case .server:
            if context.judgesClientCertificateLater {
                cweft_tls_verify_later(ssl)
            } else if !context.verifiesClients {
                SSL_set_verify(ssl, SSL_VERIFY_NONE, nil)
            } else {
                SSL_set_verify(ssl, context.clientAuthRequired ? cweft_tls_verify_require_cert() : cweft_tls_verify_peer(), nil)
            }
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_verify(ssl, cweft_tls_verify_peer(), nil)
            if !context.serverHostOverride.isEmpty {
                _ = cweft_tls_set_sni(ssl, context.serverHostOverride)
                _ = SSL_set1_host(ssl, context.serverHostOverride)
            }
            SSL_set_connect_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    // MARK: handshake

    package var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Moves the handshake on with what has been fed; its output (if any) is
    /// then in `pendingOutput`.
    package func handshake() -> Progress {
        ERR_clear_error()
        let r = SSL_do_handshake(ssl)
        if r == 1 { return .done }
        let error = SSL_get_error(ssl, r)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return .inProgress }
        return .failed(describe(error))
    }

    /// "TLSv1.3".
    package var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    package var cipherName: String {
        guard let cipher = SSL_get_current_cipher(ssl) else { return "" }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    package var hasPeerCertificate: Bool { SSL_get0_peer_certificate(ssl) != nil }

    /// The other side's certificate, as a context that judges it later
    /// (`judgesClientCertificateLater`) sees it after the handshake.
    package enum CertificateVerdict: Equatable {
        case none
        case verified
        case refused(String)
    }

    package var peerCertificateVerdict: CertificateVerdict {
        guard hasPeerCertificate else { return .none }
        let result = SSL_get_verify_result(ssl)
        return result == Int(X509_V_OK) ? .verified : .refused(String(cString: X509_verify_cert_error_string(result)))
    }

    /// The other side's (verified) certificate, DER; nil without one. Taken
    /// once per link, when it is established.
    package var peerCertificateDER: [UInt8]? {
        SSL_get0_peer_certificate(ssl).flatMap { MessageSigning.der($0) }
    }

    /// Whether the other side's (verified) certificate carries `name` in its
    /// CN or a DNS SAN.
    package func peerCertificateNames(_ name: String) -> Bool {
        TLSContext.certificate(SSL_get0_peer_certificate(ssl), names: name)
    }

    // MARK: records

    /// Ciphertext that arrived from the socket.
    package func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = BIO_write(input, base, Int32(bytes.count))     // a memory BIO takes all of it
    }

    /// Decrypts at most one record into `buffer`.
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        var count = 0
        ERR_clear_error()
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .bytes(count) }
        let error = SSL_get_error(ssl, 0)
        switch error {
        case SSL_ERROR_WANT_READ: return .needInput
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: return .failed(describe(error))
        }
    }

    /// Encrypts all of `bytes` into `pendingOutput` (memory BIO: never partial).
    package func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        var written = 0
        ERR_clear_error()
        return SSL_write_ex(ssl, base, bytes.count, &written) == 1 && written == bytes.count
    }

    private var closeSent = false

    /// Queues close_notify, once (after the handshake only).
    package func close() {
        guard isEstablished, !closeSent else { return }
        closeSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    /// Ciphertext waiting to be sent.
    package var pendingOutput: Int { Int(BIO_ctrl_pending(output)) }

    /// Moves up to `count` bytes of pending ciphertext to `destination`.
    package func takeOutput(into destination: UnsafeMutableRawPointer, count: Int) -> Int {
        max(0, Int(BIO_read(output, destination, Int32(clamping: count))))
    }

    private func describe(_ error: Int32) -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != Int(X509_V_OK) {
            return "certificate verify failed: \(String(cString: X509_verify_cert_error_string(verify)))"
        }
        if error == SSL_ERROR_SSL { return TLSContext.takeErrors() }
        return "OpenSSL error \(error): \(TLSContext.takeErrors())"
    }
}
