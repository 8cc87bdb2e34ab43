/// The catch-up under way, if any (PROTOCOL.md section 9): which transfer,
/// whom to ask next and when they were asked. The checks of the blocks
/// themselves are `StateTransfer`'s; what is done with them is the host's.
final class StateTransferClient {
    private(set) var current: StateTransfer?
    private var started: UInt64 = 0
    let blocksPerRequest: Int
    /// A source silent this long (ticks) is given up for the next.
    let timeoutTicks: Int

    init(blocksPerRequest: Int, timeoutTicks: Int) {
        self.blocksPerRequest = blocksPerRequest
        self.timeoutTicks = timeoutTicks
    }

    enum Begin {
        /// A transfer to this sequence number or beyond is under way already.
        case underWay
        /// The checkpoint id is not an encoded BlockchainInfo.
        case invalidCheckpoint
        /// No source can complete it: the local chain is at or past the target's height with another hash.
        case refused(String)
        case started(StateTransfer)
    }

    /// Starts a transfer to `sequence` from the chain at (`height`, `lastHash`).
    func begin(sequence: UInt64, checkpointID: String, sources: [UInt64], height: UInt64, lastHash: [UInt8]) -> Begin {
        if var current, current.sequence >= sequence {
            // Asked again of more replicas (the first ones may all serve bad blocks): ask them too.
            if current.sequence == sequence {
                current.addSources(sources)
                self.current = current
            }
            return .underWay
        }
        started += 1
        guard var fresh = StateTransfer(sequence: sequence, checkpointID: checkpointID, sources: sources,
                                        height: height, lastHash: lastHash, correlationID: started << 32) else {
            return .invalidCheckpoint
        }
        if let why = fresh.refusal { return .refused(why) }
        // A higher target while one is under way: go on from the blocks fetched so far
        // (starting again lost the race with a growing chain: whole-host seed 1368).
        if let current { fresh.carryOver(from: current) }
        current = fresh
        return .started(fresh)
    }

    var isComplete: Bool { current?.isComplete ?? false }

    /// The next SYNC_GET_BLOCKS and the replica to ask, noting when (`ticks`); nil with no source.
    func nextRequest(at ticks: Int) -> (message: Message, source: UInt64)? {
        guard var transfer = current, let source = transfer.source else { return nil }
        transfer.askedAt = ticks
        current = transfer
        guard let payload: [UInt8] = try? transfer.nextRange(per: blocksPerRequest).serializedBytes() else { return nil }
        return (Message(type: .syncGetBlocks, payload: payload), source)
    }

    /// The source asked longest ago, if it has been silent past the timeout; the next one is current then.
    func silentSource(at ticks: Int) -> UInt64?? {
        guard var transfer = current, ticks - transfer.askedAt >= timeoutTicks else { return nil }
        let silent = transfer.source
        transfer.nextSource(bad: false)
        current = transfer
        return .some(silent)
    }

    /// Takes a SYNC_BLOCKS answer; a bad source is given up for the next one.
    func receive(_ answer: Protos_SyncBlocks, from sender: UInt64) -> StateTransfer.Outcome {
        guard var transfer = current else { return .ignored }
        let outcome = transfer.receive(answer, from: sender)
        if case .badSource = outcome { transfer.nextSource(bad: true) }
        if outcome != .ignored { current = transfer }
        return outcome
    }

    /// The finished transfer, with its blocks; none is under way afterwards.
    func takeFinished() -> StateTransfer? {
        defer { current = nil }
        return current
    }
}
