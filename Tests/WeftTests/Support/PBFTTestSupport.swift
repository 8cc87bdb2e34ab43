import Foundation
import SwiftProtobuf
@testable import Weft

/// Builders for hand-made PBFT messages.
enum PBFTMake {
    /// Backup `replica` (id 1 of 4) receives the primary's pre-prepare, one
    /// other prepare and two commits for each sequence number: each commits.
    static func commitAtBackup(_ replica: PBFTReplica, sequences: ClosedRange<UInt64>) {
        for n in sequences {
            let b = batch("t\(n)")
            let d = PBFTDigest.of(b)
            replica.receive(prePrepare(n: n, batch: b), from: 0)
            replica.receive(prepare(n: n, digest: d, replica: 2), from: 2)
            for k: UInt64 in [0, 2] { replica.receive(commit(n: n, digest: d, replica: k), from: k) }
        }
    }

    static func request(_ txid: String, replica: UInt64 = 1, seconds: Int64 = 1, nanos: Int32 = 0) -> Pbft_request {
        var r = Pbft_request()
        r.replicaID = replica
        r.timestamp = Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
        r.payload = SimulatedNetwork.transaction(txid)
        return r
    }

    static func batch(_ requests: [Pbft_request]) -> Pbft_request_batch {
        var b = Pbft_request_batch()
        b.batch = requests
        return b
    }

    static func batch(_ txids: String...) -> Pbft_request_batch {
        batch(txids.enumerated().map { request($0.element, seconds: Int64($0.offset + 1)) })
    }

    static func message(_ payload: Pbft_message.OneOf_Payload) -> Pbft_message {
        var m = Pbft_message()
        m.payload = payload
        return m
    }

    static func prePrepare(view: UInt64 = 0, n: UInt64, batch: Pbft_request_batch, digest: String? = nil, replica: UInt64 = 0) -> Pbft_message {
        var p = Pbft_pre_prepare()
        p.view = view
        p.sequenceNumber = n
        p.requestBatch = batch
        p.batchDigest = digest ?? PBFTDigest.of(batch)
        p.replicaID = replica
        return message(.prePrepare(p))
    }

    static func prepare(view: UInt64 = 0, n: UInt64, digest: String, replica: UInt64) -> Pbft_message {
        var p = Pbft_prepare()
        p.view = view
        p.sequenceNumber = n
        p.batchDigest = digest
        p.replicaID = replica
        return message(.prepare(p))
    }

    static func commit(view: UInt64 = 0, n: UInt64, digest: String, replica: UInt64) -> Pbft_message {
        var c = Pbft_commit()
        c.view = view
        c.sequenceNumber = n
        c.batchDigest = digest
        c.replicaID = replica
        return message(.commit(c))
    }

    /// VIEW-CHANGE(view, h, C, P, Q) from `replica`; C as (sequence, id) pairs.
    static func viewChange(view: UInt64, h: UInt64 = 0, replica: UInt64, c: [(UInt64, String)],
                           p: [Pbft_view_change.PQ] = [], q: [Pbft_view_change.PQ] = []) -> Pbft_view_change {
        var m = Pbft_view_change()
        m.view = view
        m.h = h
        m.replicaID = replica
        m.cset = c.map {
            var e = Pbft_view_change.C()
            e.sequenceNumber = $0.0
            e.id = $0.1
            return e
        }
        m.pset = p
        m.qset = q
        return m
    }

    static func checkpoint(n: UInt64, id: String, replica: UInt64) -> Pbft_message {
        var c = Pbft_checkpoint()
        c.sequenceNumber = n
        c.id = id
        c.replicaID = replica
        return message(.checkpoint(c))
    }
}

extension Array where Element == PBFTAction {
    var executed: [UInt64] {
        compactMap { if case .execute(let s, _, _) = $0 { return s } else { return nil } }
    }

    var broadcastCommits: [Pbft_commit] {
        compactMap { if case .broadcast(let m) = $0, case .commit(let c) = m.payload { return c } else { return nil } }
    }

    var broadcastPrepares: [Pbft_prepare] {
        compactMap { if case .broadcast(let m) = $0, case .prepare(let p) = m.payload { return p } else { return nil } }
    }

    var broadcastPrePrepares: [Pbft_pre_prepare] {
        compactMap { if case .broadcast(let m) = $0, case .prePrepare(let p) = m.payload { return p } else { return nil } }
    }

    var broadcastCheckpoints: [Pbft_checkpoint] {
        compactMap { if case .broadcast(let m) = $0, case .checkpoint(let c) = m.payload { return c } else { return nil } }
    }

    var viewChangesStarted: [(from: UInt64, to: UInt64, reason: PBFTViewChangeReason)] {
        compactMap { if case .viewChangeStarted(let f, let t, let r) = $0 { return (f, t, r) } else { return nil } }
    }
}
