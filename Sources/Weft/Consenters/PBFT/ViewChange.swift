/// View change (phase 2): stubs until implemented.
extension PBFTReplica {
    func startViewChange(reason: PBFTViewChangeReason) {}
    func receiveViewChange(_ vc: Pbft_view_change) {}
    func receiveNewView(_ nv: Pbft_new_view) {}
    func receiveFetchRequestBatch(_ f: Pbft_fetch_request_batch) {}
    func receiveReturnRequestBatch(_ b: Pbft_request_batch) {}
    func tickViewChangeTimers() {}
    func startTimerIfOutstanding() {}
    func afterExecution() {}
    func checkBehind() {}
}

extension PBFTReplica {
    func stateTransferCompleted(sequence: UInt64, checkpointID: String) {}
}
