/// What a message on the simulated network is, for drops by type, the trace
/// and the checker.
enum SimMessageKind: String, CaseIterable, Sendable {
    case request, prePrepare = "pre-prepare", prepare, commit, checkpoint, viewChange = "view-change"
    case newView = "new-view", fetch, syncGetBlocks = "sync-get-blocks", syncBlocks = "sync-blocks"
    case response, transaction, other

    /// The kinds a "drop by type" fault picks from.
    static let droppable: [SimMessageKind] = [.request, .prePrepare, .prepare, .commit, .checkpoint, .viewChange, .newView, .syncBlocks]

    /// The kind, and the PBFT message inside a CONSENSUS envelope (if any).
    static func of(_ message: Message) -> (kind: SimMessageKind, inner: Pbft_message?) {
        switch message.type {
        case .consensus:
            switch PBFTEnvelope.open(message.payload) {
            case .request, .requests: return (.request, nil)
            case .undecodable: return (.other, nil)
            case .protocolMessage(let inner): return (of(inner), inner)
            }
        case .syncGetBlocks: return (.syncGetBlocks, nil)
        case .syncBlocks: return (.syncBlocks, nil)
        case .response: return (.response, nil)
        case .chainTransaction: return (.transaction, nil)
        default: return (.other, nil)
        }
    }

    static func of(_ inner: Pbft_message) -> SimMessageKind {
        switch inner.payload {
        case .prePrepare: return .prePrepare
        case .prepare: return .prepare
        case .commit: return .commit
        case .checkpoint: return .checkpoint
        case .viewChange: return .viewChange
        case .newView: return .newView
        default: return .fetch
        }
    }
}
