import COpenSSL
import Foundation

/// One-shot digests through OpenSSL's EVP interface.
enum OpenSSLDigest {
    static func compute(_ type: OpaquePointer?, _ data: [UInt8], length: Int) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL: EVP_MD_CTX_new failed (out of memory)") }
        defer { EVP_MD_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: length)
        let ok = EVP_DigestInit_ex(context, type, nil) == 1
            && data.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
            && out.withUnsafeMutableBufferPointer { buffer -> Bool in
                if EVP_MD_get_flags(type) & UInt(EVP_MD_FLAG_XOF) != 0 {
                    return EVP_DigestFinalXOF(context, buffer.baseAddress, length) == 1
                }
                return EVP_DigestFinal_ex(context, buffer.baseAddress, nil) == 1
            }
        guard ok else { fatalError("OpenSSL: digest failed") }
        return out
    }
}
