import SwiftProtobuf

extension PBFTHost {
    /// The next request stamp; a raised ceiling is recorded first (nil: it could not be).
    func nextStamp() -> Google_Protobuf_Timestamp? {
        let (stamp, ceilingRecord) = stamper.next(wallClock: clock.wallClock(), after: replica.pool.stamps.latest(of: selfReplica))
        if let ceilingRecord {
            var ready = PBFTReady([])
            ready.records = [(RequestStamper.ceilingKey, ceilingRecord)]
            perform(ready)
        }
        return storeFailure == nil ? stamp : nil
    }
}
