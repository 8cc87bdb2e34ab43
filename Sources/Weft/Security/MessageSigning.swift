import COpenSSL
import Foundation

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
