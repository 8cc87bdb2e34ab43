import Foundation
import SwiftProtobuf

/// One committed batch as a block, and what went into it.
struct AssembledBlock: Sendable {
    let bytes: [UInt8]
    /// SHA256(bytes): the next block's previousBlockHash.
    let hash: [UInt8]
    let number: UInt64
    /// Transactions in the block, in batch order.
    let included: [(txid: String, key: RequestKey)]
    /// Requests whose txid was among the chain's recent ones or earlier in this batch.
    let duplicates: [(txid: String, key: RequestKey)]
    /// Requests whose payload is not a Protos_Transaction with a txid.
    let malformed: [RequestKey]
    /// Stale requests (`RequestStamps`): skipped, never executed.
    var stale: [Pbft_request] = []
}
