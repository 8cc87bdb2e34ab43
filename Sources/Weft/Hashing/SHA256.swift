import COpenSSL
import Foundation

/// SHA-256 (FIPS 180-4), for the hash chain of blocks: the system OpenSSL's.
enum SHA256 {
    static func hash(_ data: [UInt8]) -> [UInt8] { OpenSSLDigest.compute(EVP_sha256(), data, length: 32) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
