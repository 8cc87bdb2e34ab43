/// The real `PBFTLedger`: the block file written and fsynced by `LedgerWriter`
/// on its own queue, and blocks served back by `BlockServer`.
final class FileLedger: PBFTLedger {
    let writer: LedgerWriter
    private let server: BlockServer

    init(writer: LedgerWriter, server: BlockServer) {
        self.writer = writer
        self.server = server
    }

    var durableHeight: UInt64 { writer.durableHeight.load(ordering: .acquiring) }

    func append(_ bytes: [UInt8]) { writer.append(bytes, txids: []) }

    func takeOutcomes() -> [Result<Void, Error>] { writer.takeOutcomes().map(\.result) }

    func answerBlockRequest(_ payload: [UInt8]) -> Message? { server.answer(payload, durableHeight: durableHeight) }

    func finish() { writer.finish() }
}
