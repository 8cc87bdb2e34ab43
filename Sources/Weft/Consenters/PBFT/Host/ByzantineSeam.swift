/// TEST ONLY (`pbft.test.byzantine`): the one place where the host asks its
/// byzantine mode what to do instead of the honest thing. Without a mode the
/// host has no seam at all (nil), and every branch below is skipped.
final class ByzantineSeam {
    let mode: PBFTByzantineMode
    /// Client requests wrapped so far (`lose-spread` loses every third broadcast).
    private var wrapped = 0
    /// `bad-blocks`: SYNC_BLOCKS answers spoiled so far.
    private var badBlockAnswers = 0

    init(_ mode: PBFTByzantineMode) { self.mode = mode }

    /// Is this newly wrapped client request spread to the other replicas?
    func spreadsNewRequest() -> Bool {
        wrapped &+= 1
        return mode != .loseSpread || wrapped % 3 != 0
    }

    /// The lies that replace an honest broadcast, one message per target; nil = send it as it is.
    func rewrite(_ message: Pbft_message, replicaCount: Int, selfID: UInt64) -> [(UInt64, Pbft_message)]? {
        mode.rewrite(message, replicaCount: replicaCount, selfID: selfID)
    }

    /// Unprompted lies, every 10 ticks.
    func tick(_ ticks: Int, replica: PBFTReplica, selfID: UInt64, sign: (([UInt8]) -> [UInt8]?)?) -> [PBFTAction]? {
        guard ticks % 10 == 0 else { return nil }
        return mode.tick(replica: replica, selfID: selfID, round: ticks / 10, sign: sign)
    }

    /// `bad-blocks`: a SYNC_BLOCKS answer with its blocks spoiled; nil = send it as it is.
    func spoil(_ answer: Message) -> Message? {
        guard mode == .badBlocks, case .syncBlocks = answer.type,
              var blocks = try? Protos_SyncBlocks(serializedBytes: answer.payload), !blocks.blocks.isEmpty else { return nil }
        badBlockAnswers += 1
        PBFTByzantineMode.spoil(&blocks.blocks, round: badBlockAnswers)
        guard let payload: [UInt8] = try? blocks.serializedBytes() else { return nil }
        return Message(type: .syncBlocks, payload: payload)
    }
}
