/// The txids a new block is checked against for duplicates: the chain's last
/// `capacity` transactions, in chain order (`pbft.general.txidwindow`). Every
/// correct replica has the same chain and the same capacity, so the same
/// window: the same duplicates are skipped everywhere and the blocks stay
/// byte-identical. Bounded, where a set of every txid ever ordered grows with
/// the chain. Each entry is a 16-byte `TxidDigest`, held twice (the ring and
/// the set): 53 bytes a transaction measured with the set's slack (RSS over a
/// million 37-character txids), where a String per txid took 147.
struct TxidWindow: Sendable {
    let capacity: Int
    /// The window in insertion order, as a ring once full; `oldest` is the next to go.
    private var ring: [TxidDigest] = []
    private var oldest = 0
    private var members: Set<TxidDigest> = []

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// The window after `txids`, the chain's transactions in order (at start-up).
    init(capacity: Int, chainOrder txids: some Sequence<String>) {
        self.init(capacity: capacity)
        for txid in txids { append(txid) }
    }

    var count: Int { members.count }

    func contains(_ txid: String) -> Bool { contains(TxidDigest(txid)) }

    func contains(_ txid: TxidDigest) -> Bool { members.contains(txid) }

    /// `txid` went into the chain (it is not in the window: the chain skips duplicates).
    mutating func append(_ txid: String) { append(TxidDigest(txid)) }

    mutating func append(_ txid: TxidDigest) {
        guard members.insert(txid).inserted else { return }
        if ring.count < capacity {
            ring.append(txid)
            return
        }
        members.remove(ring[oldest])
        ring[oldest] = txid
        oldest = oldest + 1 == capacity ? 0 : oldest + 1
    }
}
