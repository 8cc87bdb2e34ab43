struct MessageLog {
    private(set) var certs: [CertKey: Certificate] = [:]
    /// Batches by digest, with the highest sequence number that refers to each (for GC and FETCH).
    private(set) var batches: [String: (batch: Pbft_request_batch, sequence: UInt64)] = [:]

    var count: Int { certs.count }

    subscript(view: UInt64, sequence: UInt64) -> Certificate? { certs[CertKey(view: view, sequence: sequence)] }

    mutating func update(view: UInt64, sequence: UInt64, _ body: (inout Certificate) -> Void) {
        body(&certs[CertKey(view: view, sequence: sequence), default: Certificate()])
    }

    mutating func storeBatch(_ batch: Pbft_request_batch, digest: String, sequence: UInt64) {
        if let old = batches[digest] {
            batches[digest] = (old.batch, max(old.sequence, sequence))
        } else {
            batches[digest] = (batch, sequence)
        }
    }

    func batch(_ digest: String) -> Pbft_request_batch? { batches[digest]?.batch }

    /// Keys, sorted by (sequence, view): the only way to walk the log.
    var sortedKeys: [CertKey] { certs.keys.sorted() }

    func keys(forSequence n: UInt64) -> [CertKey] { sortedKeys.filter { $0.sequence == n } }

    /// Drops everything at or below the stable checkpoint; returns the digests of the batches dropped (sorted).
    @discardableResult
    mutating func collect(atOrBelow h: UInt64) -> [String] {
        certs = certs.filter { $0.key.sequence > h }
        let dropped = batches.filter { $0.value.sequence <= h }.keys.sorted()
        batches = batches.filter { $0.value.sequence > h }
        return dropped
    }

    /// Drops certificates of views before `view` (entering a view change).
    mutating func dropViews(before view: UInt64) {
        certs = certs.filter { $0.key.view >= view }
    }
}
