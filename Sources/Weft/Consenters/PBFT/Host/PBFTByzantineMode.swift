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
    /// It sends VIEW-CHANGEs for higher views claiming other replicas' ids
    /// (unsigned, signed with its own key, or with a signature of random
    /// bytes), and, as if it were the primary of a later view, a NEW-VIEW
    /// relaying such forgeries (which, unsigned view-changes accepted, would
    /// move the honest replicas to a view it leads).
    case forgeViewChange = "forge-view-change"
    /// It answers SYNC_GET_BLOCKS with blocks that do not link, or with a
    /// chain whose last block is altered (it misses the target's hash).
    case badBlocks = "bad-blocks"
    /// Not a lie but a fault: every third request it wraps for its clients is
    /// not broadcast, as if the links had lost it, so only it holds that
    /// request until a later one of its own overtakes it.
    case loseSpread = "lose-spread"
    /// As primary, it replaces every other request of another replica in its batches with
    /// a transaction of its own under the same (replica, timestamp) key, and adds a request
    /// under each other replica's id with the largest timestamp (issue 21, S2).
    case forgeRequests = "forge-requests"

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
        case (.forgeRequests, .prePrepare(var prePrepare)) where !prePrepare.requestBatch.batch.isEmpty:
            Self.forge(&prePrepare.requestBatch.batch, others: others)
            prePrepare.batchDigest = PBFTDigest.of(prePrepare.requestBatch)
            var lie = Pbft_message()
            lie.prePrepare = prePrepare
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

    /// Unprompted lies, made every few ticks (`round` counts them): phantom
    /// prepares and commits for the next sequence numbers, for a batch that
    /// does not exist; or forged view-changes. `sign` signs with this
    /// replica's own key (nil without TLS).
    func tick(replica: PBFTReplica, selfID: UInt64, round: Int = 0, sign: (([UInt8]) -> [UInt8]?)? = nil) -> [PBFTAction]? {
        if self == .forgeViewChange { return forgeViewChanges(replica: replica, selfID: selfID, round: round, sign: sign) }
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

    /// `forge-requests`: every other request of another replica gets a payload of this
    /// replica's making under the same key; then one request per other replica at the largest timestamp.
    static func forge(_ batch: inout [Pbft_request], others: [UInt64]) {
        func transaction(_ txid: String) -> Data {
            var tx = Protos_Transaction()
            tx.txid = txid
            return (try? tx.serializedBytes()) ?? Data()
        }
        var replaced = 0
        for i in batch.indices where others.contains(batch[i].replicaID) {
            replaced += 1
            if replaced % 2 == 1 { batch[i].payload = transaction("forged-\(RequestKey(batch[i]))") }
        }
        for victim in others {
            var request = Pbft_request()
            request.replicaID = victim
            request.timestamp.seconds = Int64.max
            request.timestamp.nanos = 999_999_999
            request.payload = transaction("forged-max-\(victim)")
            batch.append(request)
        }
    }

    /// A VIEW-CHANGE for `view` as `claimed` would send it from this replica's state.
    private func viewChange(_ view: UInt64, claiming claimed: UInt64, replica: PBFTReplica) -> Pbft_view_change {
        var vc = Pbft_view_change()
        vc.view = view
        vc.h = replica.lowWatermark
        vc.cset = replica.checkpoints.ownSorted.map {
            var c = Pbft_view_change.C()
            c.sequenceNumber = $0.sequence
            c.id = $0.id
            return c
        }
        vc.replicaID = claimed
        return vc
    }

    private func forgeViewChanges(replica: PBFTReplica, selfID: UInt64, round: Int,
                                  sign: (([UInt8]) -> [UInt8]?)?) -> [PBFTAction] {
        let n = UInt64(replica.options.n)
        let others = (0..<n).filter { $0 != selfID }
        var actions: [PBFTAction] = []
        // VIEW-CHANGEs for the next views, each claiming another replica, signed three ways in turn.
        let target = replica.view + 1 + UInt64(round % 3)
        for (i, claimed) in others.enumerated() {
            var vc = viewChange(target, claiming: claimed, replica: replica)
            switch (round + i) % 3 {
            case 0: break   // unsigned
            case 1: vc.signature = Data(sign?(PBFTSignatures.signedBytes(vc)) ?? [1])   // this replica's key, another's id
            default: vc.signature = Data((0..<72).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ round) })
            }
            var m = Pbft_message()
            m.viewChange = vc
            actions.append(.broadcast(m))
        }
        // A NEW-VIEW for the next view this replica would lead, relaying forged VIEW-CHANGEs
        // of every other replica and its own (signed on the way out), with the xset they give.
        var led = replica.view + 1
        while led % n != selfID { led += 1 }
        var vset = others.map { claimed -> Pbft_view_change in
            var vc = viewChange(led, claiming: claimed, replica: replica)
            if round % 2 == 1 { vc.signature = Data(sign?(PBFTSignatures.signedBytes(vc)) ?? [1]) }
            return vc
        }
        vset.append(viewChange(led, claiming: selfID, replica: replica))
        vset.sort { $0.replicaID < $1.replicaID }
        let options = replica.options
        if let cp = ViewChangeRules.initialCheckpoint(vset, f: options.f, quorum: options.quorum),
           let xset = ViewChangeRules.assignSequenceNumbers(vset, h: cp.sequence, logSize: options.logSize, f: options.f, quorum: options.quorum) {
            var nv = Pbft_new_view()
            nv.view = led
            nv.vset = vset
            nv.xset = xset
            nv.replicaID = selfID
            var m = Pbft_message()
            m.newView = nv
            actions.append(.broadcast(m))
        }
        return actions
    }

    /// `bad-blocks`: every other answer has its last block altered (a
    /// transaction added), so the chain misses the target's hash or the next
    /// answer does not link to it; the rest start with a block that does not
    /// link to the one before it.
    static func spoil(_ blocks: inout [Protos_Block], round: Int) {
        if round % 2 == 1 {
            var tx = Protos_Transaction()
            tx.txid = "bad-block-\(round)"
            blocks[blocks.count - 1].transactions.append(tx)
        } else {
            blocks[0].previousBlockHash = Data(repeating: 0xBA, count: 32)
        }
    }
}
