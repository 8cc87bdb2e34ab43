import Foundation
@testable import Weft

/// The simulation's state transfer, as the host runs it (PROTOCOL.md section 9),
/// with the real `StateTransfer`: the blocks from the local height up to the
/// height the checkpoint id names, from the listed replicas' chains in turn,
/// every link and the target's hash checked.
enum SimulatedStateTransfer {
    enum Outcome {
        /// The target cannot be reached from this chain (`StateTransfer.refusal`), or is not a BlockchainInfo.
        case refused(String)
        /// No source's chain holds it.
        case unavailable
        /// The blocks to append (none when the chain already ends at the target), and who served them.
        case done(fetched: [(block: Protos_Block, bytes: [UInt8])], servedBy: Int?)
    }

    /// `chains`: every replica's blocks (encoded), by replica.
    static func run(sequence: UInt64, id: String, sources: [UInt64], chains: [[[UInt8]]],
                    height: UInt64, lastHash: [UInt8]) -> Outcome {
        guard var transfer = StateTransfer(sequence: sequence, checkpointID: id, sources: sources, height: height,
                                           lastHash: lastHash, correlationID: 1) else { return .refused("not a BlockchainInfo") }
        if let why = transfer.refusal { return .refused(why) }
        var servedBy: Int?
        for _ in 0..<(2 * sources.count) where !transfer.isComplete {
            guard let source = transfer.source.map(Int.init) else { break }
            let start = Int(transfer.nextBlock), end = min(Int(transfer.targetHeight), chains[source].count)
            guard start < end else { transfer.nextSource(bad: false); continue }
            var answer = Protos_SyncBlocks()
            answer.range = transfer.nextRange(per: end - start)
            answer.blocks = chains[source][start..<end].map { try! Protos_Block(serializedBytes: $0) }
            switch transfer.receive(answer, from: UInt64(source)) {
            case .progress where transfer.isComplete: servedBy = source
            case .progress, .ignored: transfer.nextSource(bad: false)
            case .badSource: transfer.nextSource(bad: true)
            }
        }
        return transfer.isComplete ? .done(fetched: transfer.fetched, servedBy: servedBy) : .unavailable
    }
}
