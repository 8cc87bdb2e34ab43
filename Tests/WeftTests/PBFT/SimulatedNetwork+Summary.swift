@testable import Weft

/// One line per action or message, for the trace logs the simulation tests compare.
extension SimulatedNetwork {
    static func summary(_ a: PBFTAction) -> String {
        switch a {
        case .broadcast(let m): return "broadcast " + summary(m)
        case .send(let m, let to): return "send \(to) " + summary(m)
        case .execute(let s, let b, let d): return "execute \(s) \(b?.batch.count ?? -1) \(d.prefix(12))"
        case .requestsCompleted(let keys): return "completed \(keys)"
        case .viewChangeStarted(let f, let t, let r): return "viewchange \(f)->\(t) \(r)"
        case .newViewInstalled(let v): return "newview \(v)"
        case .stateTransfer(let s, let id, let from): return "statetransfer \(s) \(id.prefix(12)) \(from)"
        case .resendRequests(let requests): return "resend \(requests.map(RequestKey.init))"
        case .requestsOvertaken(let requests): return "overtaken \(requests.map(RequestKey.init))"
        case .persist(let key, let value): return "persist \(key) \(value?.count ?? -1)"
        }
    }

    static func summary(_ m: Pbft_message) -> String {
        switch m.payload {
        case .prePrepare(let p): return "pp v\(p.view) n\(p.sequenceNumber) \(p.batchDigest.prefix(12)) r\(p.replicaID)"
        case .prepare(let p): return "p v\(p.view) n\(p.sequenceNumber) \(p.batchDigest.prefix(12)) r\(p.replicaID)"
        case .commit(let p): return "c v\(p.view) n\(p.sequenceNumber) \(p.batchDigest.prefix(12)) r\(p.replicaID)"
        case .checkpoint(let c): return "ckpt n\(c.sequenceNumber) \(c.id.prefix(16)) r\(c.replicaID)"
        case .viewChange(let v):
            return "vc v\(v.view) h\(v.h) C\(v.cset.map(\.sequenceNumber)) P\(v.pset.map { "\($0.sequenceNumber)/\($0.view)" }) Q\(v.qset.count) r\(v.replicaID)"
        case .newView(let v):
            return "nv v\(v.view) X\(v.xset.keys.sorted().map { "\($0):\(v.xset[$0]!.prefix(6))" }) r\(v.replicaID)"
        case .fetchRequestBatch(let f): return "fetch \(f.batchDigest.prefix(12)) r\(f.replicaID)"
        case .returnRequestBatch(let b): return "return \(b.batch.count)"
        case .requestBatch: return "request_batch"
        case nil: return "empty"
        }
    }
}
