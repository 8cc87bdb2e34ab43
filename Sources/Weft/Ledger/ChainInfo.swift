/// Fabric v0.6's BlockchainInfo: the chain's height, the hash of its last
/// block (SHA-256 of the block's encoded bytes) and that block's
/// previousBlockHash. Both hashes are empty for an empty chain.
public struct ChainInfo: Sendable, Equatable {
    public let height: UInt64
    public let currentBlockHash: [UInt8]
    public let previousBlockHash: [UInt8]

    public init(height: UInt64, currentBlockHash: [UInt8], previousBlockHash: [UInt8]) {
        self.height = height
        self.currentBlockHash = currentBlockHash
        self.previousBlockHash = previousBlockHash
    }
}
