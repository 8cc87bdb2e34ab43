/// The index of a `TxidWindow`: where in the window's ring each digest sits.
/// One open-addressing table of 4-byte slots, each 0 (empty) or a ring
/// position packed with its distance from home (`TxidSlotLayout`); the
/// digests themselves stay in the ring, so an entry costs 4 bytes here at
/// most half full (8 bytes an entry) beside its 16 in the ring, where a
/// `Set<TxidDigest>` beside the ring took 32 (16-byte buckets at most 3/4
/// full, grown by doubling). Linear probing; a removal shifts the entries
/// after it back (no tombstones, so probes stay short however many txids go
/// through). Grown by doubling as the window fills, up to exactly twice the
/// window's capacity: a window of a million that holds a few thousand takes
/// a few pages, not 8 MB.
///
/// The slot order depends on a per-process seed and so differs between
/// replicas; what the table answers (which digests are in the ring) does not,
/// so blocks stay byte-identical.
struct TxidPositionTable: Sendable {
    private var slots: [UInt32] = []
    private let layout: TxidSlotLayout
    private(set) var count = 0
    /// At most twice the entries the ring can hold: never more than half full.
    let maxSlots: Int

    init(maxEntries: Int, positionBits: Int? = nil) {
        layout = TxidSlotLayout(capacity: maxEntries, positionBits: positionBits)
        maxSlots = 2 * maxEntries
    }

    /// How many slots the table has allocated (4 bytes each).
    var slotCount: Int { slots.count }

    /// The ring position holding `digest`, if any. Only entries of the same
    /// home (the same distance at this step) are compared with the ring.
    func position(of digest: TxidDigest, in ring: [TxidDigest]) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = home(of: digest)
        var distance = 0
        while true {
            let value = slots[slot]
            if value == 0 { return nil }
            let stored = layout.distance(value)
            if stored == distance || (stored == layout.farDistance && distance > stored) {
                let position = layout.position(value)
                if ring[position] == digest { return position }
            }
            slot = next(after: slot)
            distance += 1
        }
    }

    /// Indexes `ring[position]`, which is not in the table yet.
    mutating func insert(position: Int, in ring: [TxidDigest]) {
        if (count + 1) * 2 > slots.count { grow(ring) }
        place(position: position, digest: ring[position])
        count += 1
    }

    /// Forgets `ring[position]`, which is in the table (the ring still holds it).
    /// Backward shift: each entry after the hole in the same run moves into it
    /// unless the hole lies before that entry's home, so every entry stays
    /// reachable from its home without tombstones.
    mutating func remove(position: Int, in ring: [TxidDigest]) {
        var hole = home(of: ring[position])
        while slots[hole] == 0 || layout.position(slots[hole]) != position { hole = next(after: hole) }
        var slot = hole
        while true {
            slot = next(after: slot)
            let moving = slots[slot]
            if moving == 0 { break }
            let distance = distanceFromHome(moving, at: slot, ring: ring)
            let gap = steps(from: hole, to: slot)
            if distance >= gap {
                slots[hole] = layout.slot(position: layout.position(moving), distance: distance - gap)
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

    /// An entry's distance from its home: stored, or worked out from its
    /// digest when too far for the slot's bits.
    private func distanceFromHome(_ value: UInt32, at slot: Int, ring: [TxidDigest]) -> Int {
        let stored = layout.distance(value)
        guard stored == layout.farDistance else { return stored }
        return steps(from: home(of: ring[layout.position(value)]), to: slot)
    }

    /// Puts a digest not in the table into the first empty slot from its home.
    private mutating func place(position: Int, digest: TxidDigest) {
        var slot = home(of: digest)
        var distance = 0
        while slots[slot] != 0 {
            slot = next(after: slot)
            distance += 1
        }
        slots[slot] = layout.slot(position: position, distance: distance)
    }

    private func next(after slot: Int) -> Int {
        slot + 1 == slots.count ? 0 : slot + 1
    }

    /// Steps forward from `start` to `end`, around the end of the table.
    private func steps(from start: Int, to end: Int) -> Int {
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
            let position = layout.position(value)
            place(position: position, digest: ring[position])
        }
    }
}
