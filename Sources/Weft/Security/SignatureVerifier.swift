import COpenSSL
import Foundation

/// Checks signatures made by `MessageSigner` against the public key of a
/// certificate: the one a peer presented in its TLS handshake
/// (`PeerInfo.certificate`), or this peer's own.
public final class SignatureVerifier: @unchecked Sendable {   // the key is only read after init
    private let key: OpaquePointer

    /// From a DER certificate (as in `PeerInfo.certificate`); nil if it does not parse.
    public convenience init?(certificateDER der: [UInt8]) {
        guard let certificate = SignatureVerifier.parse(der) else { return nil }
        defer { X509_free(certificate) }
        self.init(certificate: certificate)
    }

    /// From a parsed certificate (X509, still the caller's).
    init?(certificate: OpaquePointer) {
        guard let key = X509_get_pubkey(certificate) else { ERR_clear_error(); return nil }
        self.key = key
    }

    /// A DER certificate parsed (the caller frees it), nil if it does not parse.
    static func parse(_ der: [UInt8]) -> OpaquePointer? {
        let certificate: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        if certificate == nil { ERR_clear_error() }
        return certificate
    }

    /// From the first certificate of a PEM file (`peer.tls.cert.file`); nil if there is none.
    public convenience init?(certificateFile path: String) {
        guard let bio = BIO_new_file(path, "r") else { ERR_clear_error(); return nil }
        defer { BIO_free(bio) }
        guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { ERR_clear_error(); return nil }
        defer { X509_free(certificate) }
        guard let der = MessageSigning.der(certificate) else { return nil }
        self.init(certificateDER: der)
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is this key's over exactly `bytes`.
    public func verify(_ signature: [UInt8], over bytes: [UInt8]) -> Bool {
        guard !signature.isEmpty, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, MessageSigning.digest(for: key), nil, key) == 1 else { ERR_clear_error(); return false }
        let ok = signature.withUnsafeBufferPointer { sig in
            bytes.withUnsafeBufferPointer { EVP_DigestVerify(ctx, sig.baseAddress, sig.count, $0.baseAddress, $0.count) }
        }
        ERR_clear_error()
        return ok == 1
    }
}
