import COpenSSL
import Foundation

/// Signs bytes with this peer's TLS private key (`peer.tls.key.file`), for
/// consensus messages that must be attributable to their sender even when
/// another replica relays them (PBFT's VIEW-CHANGE inside a NEW-VIEW).
///
/// Any key type OpenSSL loads works: the digest is the key type's default
/// (SHA-256 for EC P-256 and RSA; none for Ed25519), through
/// `EVP_DigestSign`; `SignatureVerifier` picks it the same way.
public final class MessageSigner: @unchecked Sendable {   // the key is only read after init
    private let key: OpaquePointer

    /// Loads the PEM private key; an unreadable file or a file without a key
    /// throws naming `peer.tls.key.file`.
    public init(keyFile: String) throws(ConfigError) {
        ERR_clear_error()
        guard let bio = BIO_new_file(keyFile, "r") else {
            throw ConfigError(key: "peer.tls.key.file", reason: "'\(keyFile)' cannot be opened: \(TLSContext.takeErrors())")
        }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            throw ConfigError(key: "peer.tls.key.file", reason: "'\(keyFile)' holds no usable PEM private key: \(TLSContext.takeErrors())")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// The signature over `bytes`; nil only if OpenSSL fails.
    public func sign(_ bytes: [UInt8]) -> [UInt8]? {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(ctx) }
        ERR_clear_error()
        guard EVP_DigestSignInit(ctx, nil, MessageSigning.digest(for: key), nil, key) == 1 else { ERR_clear_error(); return nil }
        var length = 0
        guard bytes.withUnsafeBufferPointer({ EVP_DigestSign(ctx, nil, &length, $0.baseAddress, $0.count) }) == 1, length > 0 else {
            ERR_clear_error()
            return nil
        }
        var signature = [UInt8](repeating: 0, count: length)
        let ok = signature.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { EVP_DigestSign(ctx, out.baseAddress, &length, $0.baseAddress, $0.count) }
        }
        guard ok == 1 else { ERR_clear_error(); return nil }
        return Array(signature.prefix(length))
    }
}
