import COpenSSL
import Foundation

/// The TLS settings of a peer, loaded and checked once at start: this peer's
/// certificate and key, the root CA, TLS 1.3 only. Start-up errors name the
/// config key and the cause (missing file, not PEM, key not matching, the
/// certificate not chaining to the root or not naming this peer).
///
/// One OpenSSL `SSL_CTX` serves both directions; `TLSSession` makes the
/// per-connection objects from it.
package final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let clientAuthRequired: Bool
    let serverHostOverride: String

    /// - Parameter expectedName: the name this side claims in its hello;
    ///   its own certificate must carry it, or every other peer would refuse it.
    package init(_ tls: PeerConfig.TLS, expectedName: String?, nameOrigin: String = "peer.id") throws(ConfigError) {
        try TLSContext.requireReadable(tls.certFile, key: "peer.tls.cert.file")
        try TLSContext.requireReadable(tls.keyFile, key: "peer.tls.key.file")
        try TLSContext.requireReadable(tls.rootCertFile, key: "peer.tls.rootcert.file")
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw ConfigError(key: "peer.tls", reason: "OpenSSL cannot make a context: \(TLSContext.takeErrors())")
        }
        self.context = context
        clientAuthRequired = tls.clientAuthRequired
        serverHostOverride = tls.serverHostOverride
        guard cweft_tls_ctx_restrict(context) == 1 else {
            throw ConfigError(key: "peer.tls", reason: "this OpenSSL cannot be limited to TLS 1.3: \(TLSContext.takeErrors())")
        }
        guard SSL_CTX_use_certificate_chain_file(context, tls.certFile) == 1 else {
            throw ConfigError(key: "peer.tls.cert.file", reason: "'\(tls.certFile)' holds no usable PEM certificate: \(TLSContext.takeErrors())")
        }
        let mismatch = ConfigError(key: "peer.tls.key.file", reason: "the key in '\(tls.keyFile)' does not match the certificate in '\(tls.certFile)'")
        guard SSL_CTX_use_PrivateKey_file(context, tls.keyFile, SSL_FILETYPE_PEM) == 1 else {
            let errors = TLSContext.takeErrors()
            if errors.contains("key values mismatch") { throw mismatch }
            throw ConfigError(key: "peer.tls.key.file", reason: "'\(tls.keyFile)' holds no usable PEM private key: \(errors)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()
            throw mismatch
        }
        guard SSL_CTX_load_verify_locations(context, tls.rootCertFile, nil) == 1 else {
            throw ConfigError(key: "peer.tls.rootcert.file", reason: "'\(tls.rootCertFile)' holds no usable PEM CA certificate: \(TLSContext.takeErrors())")
        }
        let chained = cweft_tls_verify_own_certificate(context)
        guard chained == X509_V_OK else {
            throw ConfigError(key: "peer.tls.cert.file", reason: "the certificate in '\(tls.certFile)' does not chain to peer.tls.rootcert.file '\(tls.rootCertFile)': \(String(cString: X509_verify_cert_error_string(Int(chained))))")
        }
        if let expectedName {
            guard TLSContext.certificate(SSL_CTX_get0_certificate(context), names: expectedName) else {
                throw ConfigError(key: "peer.tls.cert.file", reason: "the certificate in '\(tls.certFile)' carries '\(expectedName)' (\(nameOrigin)) neither as its CN nor as a DNS SAN: peers would refuse that name")
            }
        }
    }

    deinit { SSL_CTX_free(context) }

    private static func requireReadable(_ path: String, key: String) throws(ConfigError) {
        guard !path.isEmpty else { throw ConfigError(key: key, reason: "required when peer.tls.enabled is true") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw ConfigError(key: key, reason: "'\(path)' \(why)")
        }
    }

    static func certificate(_ cert: OpaquePointer?, names name: String) -> Bool {
        name.withCString { cweft_tls_certificate_names(cert, $0, strlen($0)) == 1 }
    }

    /// OpenSSL's error queue of this thread as one line (and emptied).
    static func takeErrors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "no detail from OpenSSL" : reasons.joined(separator: "; ")
    }
}
