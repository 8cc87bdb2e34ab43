import COpenSSL
import Foundation

/// CRC-32C (Castagnoli), as used by the ledger's records (table-driven).
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}

/// SHA-256 (FIPS 180-4), for the hash chain of blocks: the system OpenSSL's.
enum SHA256 {
    static func hash(_ data: [UInt8]) -> [UInt8] { OpenSSLDigest.compute(EVP_sha256(), data, length: 32) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// SHAKE256 (FIPS 202), an extendable-output function: PBFT batch digests
/// use 64 bytes of it (PROTOCOL.md section 8).
enum SHAKE256 {
    static func hash(_ data: [UInt8], length: Int = 64) -> [UInt8] { OpenSSLDigest.compute(EVP_shake256(), data, length: length) }
}

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
