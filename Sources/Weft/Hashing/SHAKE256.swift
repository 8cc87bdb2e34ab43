import COpenSSL
import Foundation

/// SHAKE256 (FIPS 202), an extendable-output function: PBFT batch digests
/// use 64 bytes of it (PROTOCOL.md section 8).
enum SHAKE256 {
    static func hash(_ data: [UInt8], length: Int = 64) -> [UInt8] { OpenSSLDigest.compute(EVP_shake256(), data, length: length) }
}
