import Synchronization

/// 64 bytes of nothing: keeps the fields around it on different cache lines.
struct CacheLinePad {
    static let size = 64
    private let bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
}
