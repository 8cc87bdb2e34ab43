import Foundation
import SwiftProtobuf

/// Turns committed batches into blocks, the same bytes on every correct
/// replica: nothing in a block comes from a local clock or local state other
/// than the chain itself.
struct BlockAssembler: Sendable {
    private(set) var height: UInt64
    private(set) var lastHash: [UInt8]
    /// The previousBlockHash of the last block (for BlockchainInfo).
    private(set) var previousHash: [UInt8]
    /// The chain's last transactions: a txid among them is a duplicate.
    private(set) var recentTxids: TxidWindow
    /// The request stamps after the last block (its metadata carries them).
    private(set) var requestStamps: RequestStamps

    init(height: UInt64, lastHash: [UInt8], recentTxids: TxidWindow, previousHash: [UInt8] = [],
         requestStamps: RequestStamps = RequestStamps()) {
        self.height = height
        self.lastHash = lastHash
        self.recentTxids = recentTxids
        self.previousHash = previousHash
        self.requestStamps = requestStamps
    }

    mutating func assemble(sequence: UInt64, batch: Pbft_request_batch) -> AssembledBlock {
        var block = Protos_Block()
        block.version = 0
        var included: [(txid: String, key: RequestKey)] = []
        var duplicates: [(txid: String, key: RequestKey)] = []
        var malformed: [RequestKey] = []
        var stale: [Pbft_request] = []
        var latest: Google_Protobuf_Timestamp?
        for request in batch.batch {
            let key = RequestKey(request)
            guard requestStamps.advance(key) else {
                stale.append(request)
                continue
            }
            if latest == nil || (request.timestamp.seconds, request.timestamp.nanos) > (latest!.seconds, latest!.nanos) {
                latest = request.timestamp
            }
            guard let tx = try? Protos_Transaction(serializedBytes: request.payload), !tx.txid.isEmpty else {
                malformed.append(key)
                continue
            }
            let digest = TxidDigest(tx.txid)
            if recentTxids.contains(digest) {
                duplicates.append((tx.txid, key))
                continue
            }
            recentTxids.append(digest)
            block.transactions.append(tx)
            included.append((tx.txid, key))
        }
        if let latest { block.timestamp = latest }
        block.previousBlockHash = Data(lastHash)
        block.consensusMetadata = Data(PBFTEncoding.bytes(Self.metadata(sequence: sequence, stamps: requestStamps)))
        let bytes = PBFTEncoding.bytes(block)
        let hash = SHA256.hash(bytes)
        let number = height
        previousHash = lastHash
        lastHash = hash
        height += 1
        return AssembledBlock(bytes: bytes, hash: hash, number: number, included: included,
                              duplicates: duplicates, malformed: malformed, stale: stale)
    }

    static func metadata(sequence: UInt64, stamps: RequestStamps) -> Pbft_metadata {
        var metadata = Pbft_metadata()
        metadata.seqNo = sequence
        metadata.requestStamps = stamps.byReplica.map { stamp in
            var t = Google_Protobuf_Timestamp()
            t.seconds = stamp.seconds
            t.nanos = stamp.nanos
            return t
        }
        return metadata
    }

    /// The request stamps a block's metadata carries (none for a block of an
    /// earlier Weft, whose metadata has only the sequence number).
    static func requestStamps(of block: Protos_Block) -> RequestStamps {
        guard let metadata = try? Pbft_metadata(serializedBytes: block.consensusMetadata) else { return RequestStamps() }
        return RequestStamps(byReplica: metadata.requestStamps.map { .init(seconds: $0.seconds, nanos: $0.nanos) })
    }

    /// base64 of the encoded BlockchainInfo{height, currentBlockHash, previousBlockHash}.
    var checkpointID: String {
        var info = Protos_BlockchainInfo()
        info.height = height
        info.currentBlockHash = Data(lastHash)
        info.previousBlockHash = Data(previousHash)
        return Data(PBFTEncoding.bytes(info)).base64EncodedString()
    }
}

extension BlockAssembler {
    /// A block that came by state transfer (already checked to link to this
    /// chain): the chain now ends with it.
    mutating func adopt(_ block: Protos_Block, bytes: [UInt8]) {
        for tx in block.transactions { recentTxids.append(tx.txid) }
        requestStamps = Self.requestStamps(of: block)
        previousHash = lastHash
        lastHash = SHA256.hash(bytes)
        height += 1
    }
}
