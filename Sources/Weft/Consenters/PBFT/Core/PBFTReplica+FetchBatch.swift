/// Phase 2: the batches a NEW-VIEW needs that this replica lacks, asked of the others.
extension PBFTReplica {
    // MARK: fetching batches

    func receiveFetchRequestBatch(_ f: Pbft_fetch_request_batch) {
        guard let batch = log.batch(f.batchDigest) else { return }
        send(.returnRequestBatch(batch), to: f.replicaID)
    }

    func receiveReturnRequestBatch(_ batch: Pbft_request_batch) {
        let d = PBFTDigest.of(batch)
        guard let i = missingBatches.firstIndex(of: d), let nv = newViews[view] else { return }  // unasked: ignore
        missingBatches.remove(at: i)
        let n = nv.xset.keys.sorted().last { nv.xset[$0] == d } ?? highWatermark
        log.storeBatch(batch, digest: d, sequence: n)
        persistBatch(batch, digest: d)
        if missingBatches.isEmpty { processNewView() }
    }
}
