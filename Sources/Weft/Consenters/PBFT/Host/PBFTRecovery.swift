import Foundation

/// A replica, its block assembler and its request stamper rebuilt from what
/// survived on disk: the durable chain's tip and the stored PBFT records. The real adapter calls it
/// at start-up; the whole-host simulator at every simulated restart.
enum PBFTRecovery {
    /// `lastBlock` is the chain's last block (nil for an empty chain); `chainTxids`
    /// its transactions in chain order, at least the last `txidWindow` of them.
    static func recover(id: UInt64, options: PBFTOptions, txidWindow: Int, height: UInt64, lastHash: [UInt8],
                        previousHash: [UInt8], lastBlock: Protos_Block?, chainTxids: some Sequence<String>,
                        records: [String: [UInt8]]) -> (replica: PBFTReplica, assembler: BlockAssembler, stamper: RequestStamper) {
        var lastExecuted: UInt64 = 0
        if let lastBlock, let metadata = try? Pbft_metadata(serializedBytes: lastBlock.consensusMetadata) {
            lastExecuted = metadata.seqNo
        }
        let stamps = lastBlock.map(BlockAssembler.requestStamps(of:)) ?? RequestStamps()
        let assembler = BlockAssembler(height: height, lastHash: lastHash,
                                       recentTxids: TxidWindow(capacity: txidWindow, chainOrder: chainTxids),
                                       previousHash: previousHash, requestStamps: stamps)
        let replica = PBFTReplica(id: id, options: options, lastExecuted: lastExecuted,
                                  lastCheckpointID: height == 0 ? "" : assembler.checkpointID,
                                  requestStamps: stamps, restoring: records)
        return (replica, assembler, RequestStamper(ceilingRecord: records[RequestStamper.ceilingKey]))
    }
}
