/// Big-endian integers in the ledger's files.
enum BigEndian {
    static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    static func uint64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        UInt64(uint32(bytes, at)) << 32 | UInt64(uint32(bytes, at + 4))
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        append(UInt32(value >> 32), to: &bytes)
        append(UInt32(truncatingIfNeeded: value), to: &bytes)
    }
}
