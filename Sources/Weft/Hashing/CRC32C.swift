import CWeftCRC32C

/// CRC-32C (Castagnoli), as used by the ledger's records and the PBFT record
/// log: the SSE4.2 instruction where the CPU has it (`CWeftCRC32C`).
enum CRC32C {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        cweft_crc32c(0, bytes.baseAddress, bytes.count)
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }

    /// Whether the hardware instruction is in use (for the tests and the logs).
    static var usesHardware: Bool { cweft_crc32c_hardware() != 0 }
}
