/// CHECKPOINT messages received in the watermark window, this replica's own
/// checkpoints (the C set of a VIEW-CHANGE), and each replica's highest
/// checkpoint above the window (to notice that this replica is behind).
struct Checkpoints {
    /// sequence -> replica -> id (first per replica wins).
    private(set) var received: [UInt64: [UInt64: String]] = [:]
    /// This replica's own checkpoints at or above h: sequence -> id.
    private(set) var own: [UInt64: String] = [:]
    /// Checkpoints this replica announced between K-th ones (idle, or to a replica that
    /// reconnected) at or above h: sequence -> id. In the C set too, never made stable here.
    private(set) var announced: [UInt64: String] = [:]
    /// replica -> its latest checkpoint above our high watermark (at most N entries).
    private(set) var aboveWindow: [UInt64: Pbft_checkpoint] = [:]

    var count: Int { received.count }

    /// Records a checkpoint; returns how many replicas now vouch for (sequence, id).
    mutating func record(_ c: Pbft_checkpoint) -> Int {
        if received[c.sequenceNumber]?[c.replicaID] == nil {
            received[c.sequenceNumber, default: [:]][c.replicaID] = c.id
        }
        return matching(sequence: c.sequenceNumber, id: c.id)
    }

    func matching(sequence: UInt64, id: String) -> Int {
        var n = 0
        for (_, v) in received[sequence] ?? [:] where v == id { n += 1 }  // a count: order-free
        return n
    }

    /// The replicas that sent (sequence, id), sorted.
    func replicas(sequence: UInt64, id: String) -> [UInt64] {
        guard let byReplica = received[sequence] else { return [] }
        return byReplica.keys.sorted().filter { byReplica[$0] == id }
    }

    /// The highest checkpoint above `sequence` in the window that `weak` replicas agree on.
    func highestWeakCertificate(above sequence: UInt64, weak: Int) -> (sequence: UInt64, id: String, replicas: [UInt64])? {
        for n in received.keys.sorted(by: >) where n > sequence {
            let byReplica = received[n]!
            for id in Set(byReplica.values).sorted() {
                let replicas = byReplica.keys.sorted().filter { byReplica[$0] == id }
                if replicas.count >= weak { return (n, id, replicas) }
            }
        }
        return nil
    }

    mutating func recordOwn(sequence: UInt64, id: String) { own[sequence] = id }

    mutating func recordAnnounced(sequence: UInt64, id: String) { announced[sequence] = id }

    /// Announced checkpoints below `sequence`, sorted (their records go when h passes them).
    func announced(below sequence: UInt64) -> [UInt64] { announced.keys.filter { $0 < sequence }.sorted() }

    /// Own checkpoints sorted by sequence (the C set).
    var ownSorted: [(sequence: UInt64, id: String)] { own.keys.sorted().map { ($0, own[$0]!) } }

    mutating func recordAboveWindow(_ c: Pbft_checkpoint) {
        if let old = aboveWindow[c.replicaID], old.sequenceNumber >= c.sequenceNumber { return }
        aboveWindow[c.replicaID] = c
    }

    /// The highest (sequence, id) that at least `weak` replicas report above the window, with them (sorted).
    func weakCertificateAbove(_ high: UInt64, weak: Int) -> (sequence: UInt64, id: String, replicas: [UInt64])? {
        let entries = aboveWindow.keys.sorted().map { aboveWindow[$0]! }.filter { $0.sequenceNumber > high }
        guard entries.count >= weak else { return nil }
        var best: (UInt64, String, [UInt64])?
        for e in entries {
            let vouching = entries.filter { $0.sequenceNumber == e.sequenceNumber && $0.id == e.id }.map(\.replicaID)
            guard vouching.count >= weak else { continue }
            if best == nil || e.sequenceNumber > best!.0 || (e.sequenceNumber == best!.0 && e.id < best!.1) {
                best = (e.sequenceNumber, e.id, vouching)
            }
        }
        return best.map { (sequence: $0.0, id: $0.1, replicas: $0.2) }
    }

    /// Stable at h: drop everything below (own checkpoints at h stay, for the C set).
    mutating func collect(stable h: UInt64) {
        received = received.filter { $0.key > h }
        own = own.filter { $0.key >= h }
        announced = announced.filter { $0.key >= h }
        aboveWindow = aboveWindow.filter { $0.value.sequenceNumber > h }
    }
}
