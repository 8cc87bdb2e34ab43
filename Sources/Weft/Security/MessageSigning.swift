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

/// Checks signatures made by `MessageSigner` against the public key of a
/// certificate: the one a peer presented in its TLS handshake
/// (`PeerInfo.certificate`), or this peer's own.
public final class SignatureVerifier: @unchecked Sendable {   // the key is only read after init
    private let key: OpaquePointer

    /// From a DER certificate (as in `PeerInfo.certificate`); nil if it does not parse.
    public init?(certificateDER der: [UInt8]) {
        let certificate: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate else { ERR_clear_error(); return nil }
        defer { X509_free(certificate) }
        guard let key = X509_get_pubkey(certificate) else { ERR_clear_error(); return nil }
        self.key = key
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

enum MessageSigning {
    /// The key type's default digest (SHA-256 for EC and RSA), nil for keys that sign the message itself (Ed25519).
    static func digest(for key: OpaquePointer) -> OpaquePointer? {
        var nid: Int32 = 0
        guard EVP_PKEY_get_default_digest_nid(key, &nid) > 0 else { ERR_clear_error(); return EVP_sha256() }
        if nid == NID_undef { return nil }
        return EVP_get_digestbyname(OBJ_nid2sn(nid)) ?? EVP_sha256()
    }

    /// A certificate's DER encoding.
    static func der(_ certificate: OpaquePointer) -> [UInt8]? {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { ERR_clear_error(); return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        return written == length ? der : nil
    }
}
