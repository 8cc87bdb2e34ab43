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
    /// Server side: a client certificate is asked for but never fails the
    /// handshake; each request is judged by `TLSSession.clientCertificate`
    /// (the operations listener answers 403 rather than a TLS alert).
    let judgesClientCertificateLater: Bool
    let serverHostOverride: String
    /// Server side: false when no CA was given, so no client is asked for a certificate.
    let verifiesClients: Bool

    /// The config keys (or flags) that errors name.
    package struct Keys: Sendable {
        package var enabled, cert, key, trusted: String
        package static let peer = Keys(enabled: "peer.tls.enabled", cert: "peer.tls.cert.file", key: "peer.tls.key.file", trusted: "peer.tls.rootcert.file")
        package init(enabled: String, cert: String, key: String, trusted: String) {
            self.enabled = enabled; self.cert = cert; self.key = key; self.trusted = trusted
        }
    }

    /// A peer link's context.
    /// - Parameter expectedName: the name this side claims in its hello;
    ///   its own certificate must carry it, or every other peer would refuse it.
    package convenience init(_ tls: PeerConfig.TLS, expectedName: String?, nameOrigin: String = "peer.id") throws(ConfigError) {
        try self.init(certFile: tls.certFile, keyFile: tls.keyFile, trustedFiles: [tls.rootCertFile], keys: .peer,
                      clientAuthRequired: tls.clientAuthRequired, serverHostOverride: tls.serverHostOverride)
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

    /// TLS 1.3 with this certificate and key (nil: a client without one) and
    /// these CAs to verify the other side with (none: a server that asks no
    /// client for a certificate).
    package init(certFile: String?, keyFile: String?, trustedFiles: [String], keys: Keys, clientAuthRequired: Bool = true,
                 judgesClientCertificateLater: Bool = false, serverHostOverride: String = "") throws(ConfigError) {
        if let certFile { try TLSContext.requireReadable(certFile, key: keys.cert, enabledKey: keys.enabled) }
        if let keyFile { try TLSContext.requireReadable(keyFile, key: keys.key, enabledKey: keys.enabled) }
        for file in trustedFiles { try TLSContext.requireReadable(file, key: keys.trusted, enabledKey: keys.enabled) }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw ConfigError(key: keys.enabled, reason: "OpenSSL cannot make a context: \(TLSContext.takeErrors())")
        }
        self.context = context
        self.clientAuthRequired = clientAuthRequired
        self.judgesClientCertificateLater = judgesClientCertificateLater
        verifiesClients = !trustedFiles.isEmpty
        self.serverHostOverride = serverHostOverride
        guard cweft_tls_ctx_restrict(context) == 1 else {
            throw ConfigError(key: keys.enabled, reason: "this OpenSSL cannot be limited to TLS 1.3: \(TLSContext.takeErrors())")
        }
        if let certFile, let keyFile { try loadIdentity(certFile: certFile, keyFile: keyFile, keys: keys) }
        for file in trustedFiles {
            guard SSL_CTX_load_verify_locations(context, file, nil) == 1 else {
                throw ConfigError(key: keys.trusted, reason: "'\(file)' holds no usable PEM CA certificate: \(TLSContext.takeErrors())")
            }
        }
    }

    private func loadIdentity(certFile: String, keyFile: String, keys: Keys) throws(ConfigError) {
        guard SSL_CTX_use_certificate_chain_file(context, certFile) == 1 else {
            throw ConfigError(key: keys.cert, reason: "'\(certFile)' holds no usable PEM certificate: \(TLSContext.takeErrors())")
        }
        let mismatch = ConfigError(key: keys.key, reason: "the key in '\(keyFile)' does not match the certificate in '\(certFile)'")
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            let errors = TLSContext.takeErrors()
            if errors.contains("key values mismatch") { throw mismatch }
            throw ConfigError(key: keys.key, reason: "'\(keyFile)' holds no usable PEM private key: \(errors)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()
            throw mismatch
        }
    }

    deinit { SSL_CTX_free(context) }

    private static func requireReadable(_ path: String, key: String, enabledKey: String) throws(ConfigError) {
        guard !path.isEmpty else { throw ConfigError(key: key, reason: "required when \(enabledKey) is true") }
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
