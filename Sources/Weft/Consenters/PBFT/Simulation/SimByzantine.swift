import Foundation

/// The one byzantine replica of a seed (if any): its host runs the honest
/// code, and its outgoing messages are rewritten here by the seed's lies.
/// The transactions it makes up carry txids starting "forged-", which no
/// client ever sent.
final class SimByzantine {
    let id: Int
    let lies: Set<SimLie>
    let censored: Int
    let n: Int
    private var rng: SimRandom
    private var ownCheckpointIDs: [String] = []
    private var viewChanges: [Message] = []
    private var spoiled = 0
    /// A replica that only censors behaves until the load phase after the faults (`startCensoring`),
    /// so that it is still the primary when other requests execute around the censored ones (L6).
    private(set) var censoring: Bool

    init(id: Int, lies: [SimLie], censored: Int, n: Int, seed: UInt64) {
        self.id = id
        self.lies = Set(lies)
        self.censored = censored
        censoring = lies != [.censor]
        self.n = n
        rng = SimRandom(seed: seed ^ 0xB42)
    }

    /// What goes to `to` instead of `message` (nothing, it, or other messages).
    func rewrite(kind: SimMessageKind, inner: Pbft_message?, message: Message, to: Int) -> [Message] {
        switch (kind, inner?.payload) {
        case (.prePrepare, .prePrepare(let pp)):
            return rewritePrePrepare(pp, to: to).map { [Self.wrap(.prePrepare($0))] } ?? []
        case (.checkpoint, .checkpoint(let c)):
            return [Self.wrap(.checkpoint(rewriteCheckpoint(c)))]
        case (.viewChange, _):
            if lies.contains(.replayViewChanges) { remember(message) }
            return [message]
        case (.syncBlocks, _) where lies.contains(.lyingTransfer):
            return [spoil(message) ?? message]
        default:
            return [message]
        }
    }

    func startCensoring() { censoring = true }

    /// Whether its host never hears `message` (`censor`: the censored replica's request spreads). A
    /// censor that drops them on the way in orders everything else as an honest primary would, its
    /// own log agreeing with its backups', so it never stalls the view on its own (L6); one that
    /// cut them out of its PRE-PREPAREs instead would disagree with every batch it sent.
    func ignores(_ kind: SimMessageKind, from: Int) -> Bool {
        kind == .request && from == censored && censoring && lies.contains(.censor)
    }

    /// A VIEW-CHANGE it received from another replica, kept to replay.
    func overheard(_ message: Message) {
        if lies.contains(.replayViewChanges) { remember(message) }
    }

    /// Unprompted lies (every few ticks): an old VIEW-CHANGE to everyone.
    func unprompted() -> Message? {
        guard lies.contains(.replayViewChanges), !viewChanges.isEmpty, rng.chance(0.5) else { return nil }
        return rng.pick(viewChanges)
    }

    private func remember(_ message: Message) {
        if viewChanges.count < 64 { viewChanges.append(message) } else { viewChanges[rng.below(64)] = message }
    }

    private func rewritePrePrepare(_ original: Pbft_pre_prepare, to: Int) -> Pbft_pre_prepare? {
        var pp = original
        var batch = pp.requestBatch.batch
        if lies.contains(.forgeRequests) {
            for i in batch.indices where batch[i].replicaID != UInt64(id) && i % 2 == 0 {
                let key = RequestKey(batch[i])
                batch[i].payload = Self.forgedTransaction("forged-\(key)")
            }
            for other in 0..<n where other != id {
                var r = Pbft_request()
                r.replicaID = UInt64(other)
                r.timestamp.seconds = Int64.max
                r.timestamp.nanos = 999_999_999
                r.payload = Self.forgedTransaction("forged-max-\(other)-\(pp.sequenceNumber)")
                batch.append(r)
            }
        }
        if lies.contains(.equivocate) {
            var r = Pbft_request()
            r.replicaID = UInt64(id)
            r.timestamp.seconds = Int64(pp.sequenceNumber)
            r.timestamp.nanos = Int32(to)
            r.payload = Self.forgedTransaction("forged-equivocation-\(pp.sequenceNumber)-\(to)")
            batch.append(r)
        }
        if batch.isEmpty { return nil }
        pp.requestBatch.batch = batch
        pp.batchDigest = PBFTDigest.of(pp.requestBatch)
        return pp
    }

    private func rewriteCheckpoint(_ original: Pbft_checkpoint) -> Pbft_checkpoint {
        var c = original
        if lies.contains(.staleCheckpoints), !ownCheckpointIDs.isEmpty, rng.chance(0.5) {
            c.id = rng.pick(ownCheckpointIDs)
        } else if lies.contains(.falseCheckpoints), rng.chance(0.5),
                  let data = Data(base64Encoded: c.id), var info = try? Protos_BlockchainInfo(serializedBytes: data) {
            info.height += UInt64(rng.between(0, 3))
            info.currentBlockHash = Data((0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            c.id = Data(PBFTEncoding.bytes(info)).base64EncodedString()
        }
        ownCheckpointIDs.append(original.id)
        if ownCheckpointIDs.count > 32 { ownCheckpointIDs.removeFirst() }
        return c
    }

    private func spoil(_ message: Message) -> Message? {
        guard var blocks = try? Protos_SyncBlocks(serializedBytes: message.payload), !blocks.blocks.isEmpty else { return nil }
        spoiled += 1
        PBFTByzantineMode.spoil(&blocks.blocks, round: spoiled)
        guard let payload: [UInt8] = try? blocks.serializedBytes() else { return nil }
        return Message(type: .syncBlocks, payload: payload)
    }

    static func forgedTransaction(_ txid: String) -> Data {
        var tx = Protos_Transaction()
        tx.type = .chaincodeInvoke
        tx.txid = txid
        tx.payload = Data("made up by the byzantine replica".utf8)
        return (try? tx.serializedBytes()) ?? Data()
    }

    static func wrap(_ payload: Pbft_message.OneOf_Payload) -> Message {
        var m = Pbft_message()
        m.payload = payload
        return PBFTEnvelope.carrying(m)!
    }
}
