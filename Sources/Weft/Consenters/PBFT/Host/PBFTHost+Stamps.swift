import SwiftProtobuf

extension PBFTHost {
    /// The next request stamp; a raised ceiling is recorded first.
    func nextStamp() throws(StampRefusal) -> Google_Protobuf_Timestamp {
        guard let (stamp, ceilingRecord) = stamper.next(wallClock: clock.wallClock(), after: replica.pool.stamps.latest(of: selfReplica)) else {
            throw StampRefusal(reason: "no request stamp left: the chain holds a request of this validator stamped at the largest time (a forged one: pbft requests are authenticated only with peer.tls.enabled)")
        }
        if let ceilingRecord {
            var ready = PBFTReady([])
            ready.records = [(RequestStamper.ceilingKey, ceilingRecord)]
            perform(ready)
        }
        if let storeFailure { throw StampRefusal(reason: "cannot record the request stamp ceiling: \(storeFailure)") }
        return stamp
    }
}
