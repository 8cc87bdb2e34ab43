/// Section 1 of PROTOCOL.md: a 4-byte unsigned big-endian length, then the body.
public enum FrameFormat {
    public static let headerSize = 4
    /// gRPC's default receive limit, and `peer.limits.maxFrameSize`'s default.
    public static let defaultMaxFrameSize = 4 << 20

    @inline(__always)
    public static func loadLength(_ p: UnsafeRawPointer) -> UInt32 {
        UInt32(p.load(as: UInt8.self)) << 24 | UInt32(p.load(fromByteOffset: 1, as: UInt8.self)) << 16
            | UInt32(p.load(fromByteOffset: 2, as: UInt8.self)) << 8 | UInt32(p.load(fromByteOffset: 3, as: UInt8.self))
    }

    @inline(__always)
    public static func storeLength(_ n: UInt32, at p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt8(truncatingIfNeeded: n >> 24), as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: n >> 16), toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: n >> 8), toByteOffset: 2, as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: n), toByteOffset: 3, as: UInt8.self)
    }

    /// `body` with its length prefix, as bytes (for tools and tests, not the hot path).
    public static func frame(_ body: some Collection<UInt8>) -> [UInt8] {
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body
    }
}
