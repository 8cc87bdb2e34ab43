/// What a replica hands its host after a round of inputs, sorted by what must
/// happen first — etcd raft's `Ready`. The host stores `records` (and makes
/// them durable) before it sends any of `messages`; a host that cannot store
/// them sends nothing. `committed` is then executed strictly in order, and
/// `notices` are for the host's own bookkeeping (answers, logs, catch-up).
struct PBFTReady {
    /// Store each (key, value), in order; value nil deletes the key (see `PBFTPersistence`).
    var records: [(key: String, value: [UInt8]?)] = []
    /// To the other replicas, only after `records` are stored.
    var messages: [Outgoing] = []
    /// Committed batches to execute, strictly in order, each sequence once;
    /// `batch` nil = a null request (executes nothing). Each is answered with
    /// `executed(sequence:checkpointID:)`.
    var committed: [(sequence: UInt64, batch: Pbft_request_batch?, digest: String)] = []
    /// Everything else, in the order the replica emitted it.
    var notices: [PBFTAction] = []

    enum Outgoing {
        /// To every other replica.
        case broadcast(Pbft_message)
        /// To one replica.
        case send(Pbft_message, to: UInt64)
        /// This replica's own requests, spread again to every other replica.
        case resendRequests([Pbft_request])
    }

    var isEmpty: Bool { records.isEmpty && messages.isEmpty && committed.isEmpty && notices.isEmpty }

    /// Sorts a replica's actions: records first, then messages, then executions, keeping each kind's order.
    /// Storing a record earlier than the message that needs it is always allowed.
    init(_ actions: [PBFTAction]) {
        for action in actions {
            switch action {
            case .persist(let key, let value): records.append((key, value))
            case .broadcast(let message): messages.append(.broadcast(message))
            case .send(let message, let target): messages.append(.send(message, to: target))
            case .resendRequests(let requests): messages.append(.resendRequests(requests))
            case .execute(let sequence, let batch, let digest): committed.append((sequence, batch, digest))
            default: notices.append(action)
            }
        }
    }
}
