/// How a `TxidPositionTable` slot packs an entry into 32 bits: the ring
/// position + 1 in the low bits (as many as the window's capacity needs: 20
/// for a million), and in the bits left over how far the entry sits from its
/// home slot. The distance lets a probe skip entries of other homes and a
/// removal shift entries back without reading their digests from the ring
/// (a cache miss each in a 16 MB ring). A distance too large for its bits is
/// stored as `farDistance`, "read the digest and work it out".
struct TxidSlotLayout: Sendable {
    private let positionBits: UInt32
    private let positionMask: UInt32
    /// The largest distance stored; an entry stored with it may be farther.
    let farDistance: Int

    /// `positionBits` wider than the capacity needs leaves fewer bits for the
    /// distance (tests use it to make far entries common).
    init(capacity: Int, positionBits wider: Int? = nil) {
        precondition(capacity > 0 && capacity < 1 << 31, "a ring position + 1 and one bit of distance must fit 32 bits")
        let needed = Int.bitWidth - capacity.leadingZeroBitCount
        precondition(wider.map { $0 >= needed && $0 < 32 } ?? true, "positions need \(needed) to 31 bits")
        positionBits = UInt32(wider ?? needed)
        positionMask = UInt32((1 << Int(positionBits)) - 1)
        farDistance = (1 << (32 - Int(positionBits))) - 1
    }

    /// Never 0 (an empty slot): the position + 1 is at least 1.
    func slot(position: Int, distance: Int) -> UInt32 {
        UInt32(position + 1) | UInt32(Swift.min(distance, farDistance)) << positionBits
    }

    func position(_ slot: UInt32) -> Int { Int(slot & positionMask) - 1 }

    /// The stored distance: exact below `farDistance`, at least it otherwise.
    func distance(_ slot: UInt32) -> Int { Int(slot >> positionBits) }
}
