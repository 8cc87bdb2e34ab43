/// The txids a new block is checked against for duplicates: the chain's last
/// `capacity` transactions, in chain order (`pbft.general.txidwindow`). Every
/// correct replica has the same chain and the same capacity, so the same
/// window: the same duplicates are skipped everywhere and the blocks stay
/// byte-identical. Bounded, where a set of every txid ever ordered grows with
/// the chain. Each entry is a 16-byte `TxidDigest` in a ring, found through a
/// table of 4-byte ring positions at most half full (`TxidPositionTable`):
/// 24 bytes an entry in a full window (24 MB for the default million;
/// measured in docs/BENCHMARKS.md), where the ring beside a `Set<TxidDigest>`
/// took 50.6 and a String per txid 147. Both arrays grow as the window fills,
/// and a copy shares them until one side changes (value semantics).
struct TxidWindow: Sendable {
    let capacity: Int
    /// The window in insertion order, as a ring once full; `oldest` is the next to go.
    private var ring: [TxidDigest] = []
    private var oldest = 0
    private var index: TxidPositionTable

    /// `indexPositionBits`: see `TxidSlotLayout` (tests only).
    init(capacity: Int, indexPositionBits: Int? = nil) {
        precondition(capacity > 0)
        self.capacity = capacity
        index = TxidPositionTable(maxEntries: capacity, positionBits: indexPositionBits)
    }

    /// The window after `txids`, the chain's transactions in order (at start-up).
    init(capacity: Int, chainOrder txids: some Sequence<String>) {
        self.init(capacity: capacity)
        for txid in txids { append(txid) }
    }

    var count: Int { ring.count }

    /// The bytes the window's storage takes now: the ring's 16 a digest it has
    /// room for, the index's 4 a slot.
    var storageBytes: Int { ring.capacity * MemoryLayout<TxidDigest>.stride + index.slotCount * MemoryLayout<UInt32>.stride }

    /// The index's slots: at least twice `count` (at most half full).
    var indexSlots: Int { index.slotCount }

    func contains(_ txid: String) -> Bool { contains(TxidDigest(txid)) }

    func contains(_ txid: TxidDigest) -> Bool { index.position(of: txid, in: ring) != nil }

    /// `txid` went into the chain (it is not in the window: the chain skips duplicates).
    mutating func append(_ txid: String) { append(TxidDigest(txid)) }

    mutating func append(_ txid: TxidDigest) {
        guard !contains(txid) else { return }
        if ring.count < capacity {
            growRingIfFull()
            ring.append(txid)
            index.insert(position: ring.count - 1, in: ring)
            return
        }
        index.remove(position: oldest, in: ring)
        ring[oldest] = txid
        index.insert(position: oldest, in: ring)
        oldest = oldest + 1 == capacity ? 0 : oldest + 1
    }

    /// Doubles the ring's storage, but never past `capacity`: a full window of a
    /// million takes 16 MB, not the 2^20 entries an array's own doubling reaches.
    private mutating func growRingIfFull() {
        guard ring.count == ring.capacity else { return }
        ring.reserveCapacity(Swift.min(capacity, Swift.max(16, ring.count * 2)))
    }
}
