/// The index of a `TxidWindow`: where in the window's ring each digest sits.
/// One open-addressing table of 4-byte slots, each 0 (empty) or a ring
/// position + 1; the digests themselves stay in the ring, so an entry costs
/// 4 bytes here at most half full (8 bytes an entry) beside its 16 in the
/// ring, where a `Set<TxidDigest>` beside the ring took 32 (16-byte buckets at
/// most 3/4 full, grown by doubling). Linear probing; a removal shifts the
/// entries after it back (no tombstones, so probes stay short however many
/// txids go through). Grown by doubling as the window fills, up to exactly
/// twice the window's capacity: a window of a million that holds a few
/// thousand takes a few pages, not 8 MB.
///
/// The slot order depends on a per-process seed and so differs between
/// replicas; what the table answers (which digests are in the ring) does not,
/// so blocks stay byte-identical.
struct TxidPositionTable: Sendable {
    /// 0 is an empty slot; any other value is a ring position + 1.
    private var slots: [UInt32] = []
    private(set) var count = 0
    /// At most twice the entries the ring can hold: never more than half full.
    let maxSlots: Int

    init(maxEntries: Int) {
        precondition(maxEntries > 0 && maxEntries < Int(UInt32.max), "a ring position + 1 must fit a slot")
        maxSlots = 2 * maxEntries
    }

    /// How many slots the table has allocated (4 bytes each).
    var slotCount: Int { slots.count }

    /// The ring position holding `digest`, if any.
    func position(of digest: TxidDigest, in ring: [TxidDigest]) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = home(of: digest)
        while true {
            let value = slots[slot]
            if value == 0 { return nil }
            let position = Int(value) - 1
            if ring[position] == digest { return position }
            slot = next(after: slot)
        }
    }

    /// Indexes `ring[position]`, which is not in the table yet.
    mutating func insert(position: Int, in ring: [TxidDigest]) {
        if (count + 1) * 2 > slots.count { grow(ring) }
        slots[firstEmptySlot(for: ring[position])] = UInt32(position + 1)
        count += 1
    }

    /// Forgets `ring[position]`, which is in the table (the ring still holds it).
    /// Backward shift: each entry after the hole in the same run moves into it
    /// unless the hole lies before that entry's home, so every entry stays
    /// reachable from its home without tombstones.
    mutating func remove(position: Int, in ring: [TxidDigest]) {
        let value = UInt32(position + 1)
        var hole = home(of: ring[position])
        while slots[hole] != value { hole = next(after: hole) }
        var slot = hole
        while true {
            slot = next(after: slot)
            let moving = slots[slot]
            if moving == 0 { break }
            let entryHome = home(of: ring[Int(moving) - 1])
            if distance(from: entryHome, to: slot) >= distance(from: hole, to: slot) {
                slots[hole] = moving
                hole = slot
            }
        }
        slots[hole] = 0
        count -= 1
    }

    /// The slot a digest's probe starts at. The digest is SHA-256 of a txid the
    /// client chose, so a client could grind txids whose digests share a slot
    /// if the slot came from the digest's bits alone, and make every probe walk
    /// a long run (a quadratic slowdown of the fan). Mixing in the standard
    /// library's per-process random seed (the one-word SipHash that `Set`
    /// uses) leaves the client nothing to aim at. The word is mapped onto the
    /// slots by a multiply (the table is not a power of two once full).
    private func home(of digest: TxidDigest) -> Int {
        let mixed = UInt64(UInt(bitPattern: digest._rawHashValue(seed: 0)))
        return Int(mixed.multipliedFullWidth(by: UInt64(slots.count)).high)
    }

    /// Where a digest not in the table goes: the first empty slot from its home.
    private func firstEmptySlot(for digest: TxidDigest) -> Int {
        var slot = home(of: digest)
        while slots[slot] != 0 { slot = next(after: slot) }
        return slot
    }

    private func next(after slot: Int) -> Int {
        slot + 1 == slots.count ? 0 : slot + 1
    }

    /// Steps forward from `start` to `end`, around the end of the table.
    private func distance(from start: Int, to end: Int) -> Int {
        end >= start ? end - start : end + slots.count - start
    }

    /// Twice the slots (at most `maxSlots`), every entry placed again.
    private mutating func grow(_ ring: [TxidDigest]) {
        precondition(count < maxSlots / 2, "more entries than the ring holds")
        var size = Swift.min(Swift.max(16, slots.count * 2), maxSlots)
        while (count + 1) * 2 > size { size = Swift.min(size * 2, maxSlots) }
        let old = slots
        slots = [UInt32](repeating: 0, count: size)
        for value in old where value != 0 {
            slots[firstEmptySlot(for: ring[Int(value) - 1])] = value
        }
    }
}
