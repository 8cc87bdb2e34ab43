import Foundation

/// TEST ONLY (`pbft.test.byzantine`): ways for a replica to lie, so the tests
/// can show that the honest ones are not moved by it. The lies are made on the
/// way out, after the honest state machine decided what to send.
enum PBFTByzantineMode: String {
    /// Its PREPAREs and COMMITs carry a digest of its own making.
    case wrongDigest = "wrong-digest"
    /// It also prepares and commits sequence numbers it never saw a pre-prepare for.
    case phantomPrepare = "phantom-prepare"
    /// As primary, it sends each backup a different batch for the same sequence number.
    case equivocate

    static let forgedDigest = PBFTDigest.of(Pbft_request_batch())

    /// The lies that replace an honest broadcast, one message per target; nil = send it as it is.
    func rewrite(_ message: Pbft_message, replicaCount: Int, selfID: UInt64) -> [(UInt64, Pbft_message)]? {
        let others = (0..<UInt64(replicaCount)).filter { $0 != selfID }
        switch (self, message.payload) {
        case (.wrongDigest, .prepare(var prepare)):
            prepare.batchDigest = Self.forgedDigest
            var lie = Pbft_message()
            lie.prepare = prepare
            return others.map { ($0, lie) }
        case (.wrongDigest, .commit(var commit)):
            commit.batchDigest = Self.forgedDigest
            var lie = Pbft_message()
            lie.commit = commit
            return others.map { ($0, lie) }
        case (.equivocate, .prePrepare(let prePrepare)):
            return others.map { target in
                var variant = prePrepare
                var request = Pbft_request()
                request.replicaID = selfID
                request.timestamp.seconds = Int64(prePrepare.sequenceNumber)
                request.timestamp.nanos = Int32(target)
                var tx = Protos_Transaction()
                tx.txid = "equivocation-\(prePrepare.sequenceNumber)-\(target)"
                request.payload = (try? tx.serializedBytes()) ?? Data()
                variant.requestBatch.batch.append(request)
                variant.batchDigest = PBFTDigest.of(variant.requestBatch)
                var lie = Pbft_message()
                lie.prePrepare = variant
                return (target, lie)
            }
        default:
            return nil
        }
    }

    /// Unprompted lies, made once per tick: phantom prepares and commits for
    /// the next sequence numbers, for a batch that does not exist.
    func tick(replica: PBFTReplica, selfID: UInt64) -> [PBFTAction]? {
        guard self == .phantomPrepare else { return nil }
        var actions: [PBFTAction] = []
        for sequence in (replica.lastExecuted + 1)...(replica.lastExecuted + 2) {
            var prepare = Pbft_prepare()
            prepare.view = replica.view
            prepare.sequenceNumber = sequence
            prepare.batchDigest = Self.forgedDigest
            prepare.replicaID = selfID
            var commit = Pbft_commit()
            commit.view = replica.view
            commit.sequenceNumber = sequence
            commit.batchDigest = Self.forgedDigest
            commit.replicaID = selfID
            var first = Pbft_message(), second = Pbft_message()
            first.prepare = prepare
            second.commit = commit
            actions.append(.broadcast(first))
            actions.append(.broadcast(second))
        }
        return actions
    }
}
