import Foundation

/// `PBFTLedger` over a simulated disk, with LedgerWriter's behaviour: appends
/// queue in the process, the writer writes them and fsyncs, then reports each
/// outcome in append order; after one failure every later append fails too
/// (until a restart). Blocks are served from the durable ones only.
final class SimLedger: PBFTLedger {
    let disk: SimDisk
    let incarnation: SimIncarnation
    let blocksPerRequest: Int
    /// Appended, not yet written (lost if the process dies).
    private var queued: [[UInt8]] = []
    /// Written to the page cache, not yet fsynced: their outcomes wait for the sync.
    private var writtenUnsynced = 0
    private var outcomes: [Result<Void, Error>] = []
    private(set) var failure: Error?
    private(set) var durableHeight: UInt64

    init(disk: SimDisk, incarnation: SimIncarnation, blocksPerRequest: Int) {
        self.disk = disk
        self.incarnation = incarnation
        self.blocksPerRequest = blocksPerRequest
        durableHeight = UInt64(disk.blockCount)
    }

    /// Blocks the writer has yet to write or sync.
    var pending: Bool { !queued.isEmpty || writtenUnsynced > 0 }

    func append(_ bytes: [UInt8]) {
        guard incarnation.effect() else { return }
        queued.append(bytes)
    }

    /// The writer's first half: the queued blocks go to the page cache (or all fail).
    func write() {
        guard !queued.isEmpty else { return }
        if failure == nil && disk.full { failure = SimDiskError.full }
        if let failure {
            outcomes += queued.map { _ in .failure(failure) }
        } else {
            disk.writeBlocks(queued)
            writtenUnsynced += queued.count
        }
        queued = []
    }

    /// The second half: fdatasync, then every written block is reported durable.
    func sync() {
        guard writtenUnsynced > 0 else { return }
        disk.syncBlocks()
        outcomes += Array(repeating: .success(()), count: writtenUnsynced)
        writtenUnsynced = 0
        durableHeight = UInt64(disk.blockCount)
    }

    func takeOutcomes() -> [Result<Void, Error>] {
        defer { outcomes = [] }
        return outcomes
    }

    /// As BlockServer: the durable blocks of the range asked for, from its start, at most `blocksPerRequest`.
    func answerBlockRequest(_ payload: [UInt8]) -> Message? {
        guard let range = try? Protos_SyncBlockRange(serializedBytes: payload) else { return nil }
        var answer = Protos_SyncBlocks()
        answer.range = range
        var number = range.start
        while number <= range.end, number < durableHeight, answer.blocks.count < blocksPerRequest,
              let block = try? Protos_Block(serializedBytes: disk.block(Int(number))) {
            answer.blocks.append(block)
            number += 1
        }
        answer.range.end = answer.blocks.isEmpty ? range.start : number - 1
        guard let bytes: [UInt8] = try? answer.serializedBytes() else { return nil }
        return Message(type: .syncBlocks, payload: bytes)
    }

    func finish() {
        write()
        sync()
    }
}
