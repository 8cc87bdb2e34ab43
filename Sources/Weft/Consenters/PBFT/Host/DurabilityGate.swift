/// Executions and state transfers the replica is told of only once their
/// blocks are durable: a replica announces a CHECKPOINT, and collects its log
/// below it, only for a block that survives a crash of every replica (L3).
struct DurabilityGate {
    enum Step: Equatable {
        /// `replica.executed(sequence:checkpointID:)`.
        case executed(sequence: UInt64, checkpointID: String)
        /// `replica.stateTransferCompleted(sequence:checkpointID:requestStamps:)`.
        case transferred(sequence: UInt64, checkpointID: String, requestStamps: RequestStamps)
    }

    /// Steps in the order they happened, each with the ledger height that must be durable first.
    private var waiting: [(step: Step, height: UInt64)] = []
    private var head = 0

    var count: Int { waiting.count - head }

    mutating func hold(_ step: Step, untilHeight height: UInt64) { waiting.append((step, height)) }

    /// The steps whose blocks are all durable now, in order.
    mutating func release(durableHeight: UInt64) -> [Step] {
        var ready: [Step] = []
        while head < waiting.count, waiting[head].height <= durableHeight {
            ready.append(waiting[head].step)
            head += 1
        }
        if head > 256 && head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        return ready
    }
}
