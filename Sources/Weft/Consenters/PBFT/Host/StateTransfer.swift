import Foundation
import Glibc

/// One catch-up by state transfer (PROTOCOL.md section 9): fetch the blocks
/// from this ledger's height up to a target that f+1 replicas vouched for,
/// from those replicas in turn, and check every hash link (from the last
/// local block to the target's hash) before anything is appended.
struct StateTransfer {
    /// The sequence number and checkpoint id the replica asked for.
    let sequence: UInt64
    let checkpointID: String
    /// The target from the checkpoint id: the height to reach and the last block's hash there.
    let targetHeight: UInt64
    let targetHash: [UInt8]
    /// Replicas that vouched for the target, asked in turn.
    private(set) var sources: [UInt64]
    private(set) var sourceIndex = 0
    private(set) var correlationID: UInt64
    /// Blocks fetched and linked so far, from the local height on.
    private(set) var fetched: [(block: Protos_Block, bytes: [UInt8])] = []
    /// How many of them came from the transfer this one replaced (`carryOver`).
    private var carried = 0
    private let startHeight: UInt64
    private let startHash: [UInt8]
    /// When the current request was sent (ticks), for the timeout.
    var askedAt = 0
    private(set) var badSources: [UInt64] = []

    /// Nil when the checkpoint id is not an encoded BlockchainInfo.
    init?(sequence: UInt64, checkpointID: String, sources: [UInt64], height: UInt64, lastHash: [UInt8], correlationID: UInt64) {
        guard let data = Data(base64Encoded: checkpointID), let info = try? Protos_BlockchainInfo(serializedBytes: data) else { return nil }
        self.sequence = sequence
        self.checkpointID = checkpointID
        targetHeight = info.height
        targetHash = Array(info.currentBlockHash)
        self.sources = sources
        startHeight = height
        startHash = lastHash
        self.correlationID = correlationID
    }

    var source: UInt64? { sourceIndex < sources.count ? sources[sourceIndex] : nil }
    var nextBlock: UInt64 { startHeight + UInt64(fetched.count) }
    /// The chain reaches the target's height and ends in its hash. A local chain
    /// already at or past that height is compared too (PROTOCOL.md section 9):
    /// one that does not end in the target's hash is never complete (`refusal`).
    var isComplete: Bool { nextBlock >= targetHeight && refusal == nil }

    /// Why no source can complete this transfer: the local chain is already at or
    /// past the target's height (nothing to fetch) and does not end in the hash the
    /// checkpoint names, or is longer (its block at that height is not at hand here).
    /// The host refuses such a target (`stateTransferFailed`); nil otherwise.
    var refusal: String? {
        guard fetched.isEmpty, startHeight >= targetHeight else { return nil }
        if startHeight > targetHeight {
            return "the local chain (height \(startHeight)) is already past the target height \(targetHeight)"
        }
        return startHash == targetHash ? nil : "the local chain at height \(targetHeight) does not end in the hash the checkpoint names"
    }

    /// Keeps the blocks `previous` fetched and linked from the same local chain, short of
    /// this target's last block: that one is still fetched, so the hash this target names
    /// is checked over the whole chain (`receive`) before anything counts as complete.
    mutating func carryOver(from previous: StateTransfer) {
        guard previous.startHeight == startHeight, previous.startHash == startHash, targetHeight > startHeight else { return }
        fetched = Array(previous.fetched.prefix(Int(targetHeight - startHeight) - 1))
        carried = fetched.count
    }

    /// The next range to ask for, at most `per` blocks.
    func nextRange(per: Int) -> Protos_SyncBlockRange {
        var range = Protos_SyncBlockRange()
        range.correlationID = correlationID
        range.start = nextBlock
        range.end = min(targetHeight, nextBlock + UInt64(per)) - 1
        return range
    }

    enum Outcome: Equatable {
        /// Blocks taken; ask for more (or done when `isComplete`).
        case progress
        /// Not for this transfer (another correlation id or sender): ignored.
        case ignored
        /// The source sent a block that does not link, or a chain that misses the target: move on.
        case badSource(String)
    }

    /// Takes the blocks of a SYNC_BLOCKS answer from `sender`, checking each link.
    mutating func receive(_ answer: Protos_SyncBlocks, from sender: UInt64) -> Outcome {
        guard sender == source, answer.range.correlationID == correlationID, answer.range.start == nextBlock else { return .ignored }
        guard !answer.blocks.isEmpty else { return .badSource("answered with no blocks") }
        for block in answer.blocks {
            guard nextBlock < targetHeight else { break }
            let previous = fetched.last.map { SHA256.hash($0.bytes) } ?? startHash
            guard Array(block.previousBlockHash) == previous else {
                return blame("block \(nextBlock) does not link to block \(nextBlock == 0 ? 0 : nextBlock - 1)")
            }
            guard let bytes: [UInt8] = try? block.serializedBytes() else { return .badSource("block \(nextBlock) does not encode") }
            fetched.append((block, bytes))
        }
        if nextBlock >= targetHeight, SHA256.hash(fetched.last?.bytes ?? []) != targetHash {
            return blame("the blocks up to height \(targetHeight) do not end in the hash the checkpoint names")
        }
        return .progress
    }

    /// A chain that does not check: the source's fault, unless blocks carried over from the
    /// transfer before (another source's, perhaps a liar's) are in it. Then it starts again
    /// from the local chain with this source, blaming no one.
    private mutating func blame(_ why: String) -> Outcome {
        guard carried > 0 else { return .badSource(why) }
        fetched = []
        carried = 0
        correlationID &+= 1
        return .progress
    }

    /// More replicas to ask, after those already known.
    mutating func addSources(_ more: [UInt64]) {
        for source in more where !sources.contains(source) { sources.append(source) }
    }

    /// Gives up the current source (bad or silent) and starts over with the
    /// next; after the last, the first again (a silent one may be back).
    /// Sources that sent bad blocks are not asked again while others remain.
    mutating func nextSource(bad: Bool) {
        if bad, let source { badSources.append(source) }
        let good = sources.filter { !badSources.contains($0) }
        if !good.isEmpty, good.count < sources.count {
            let current = source
            sources = good
            sourceIndex = current.flatMap { c in good.firstIndex(where: { $0 > c }) } ?? 0
        } else {
            sourceIndex = (sourceIndex + 1) % max(1, sources.count)
        }
        correlationID &+= 1
        fetched = []
        carried = 0
    }
}
