/// A request's identity: the replica that received it from its client, and the timestamp it gave it.
struct RequestKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    let replica: UInt64
    let seconds: Int64
    let nanos: Int32

    init(replica: UInt64, seconds: Int64, nanos: Int32) {
        self.replica = replica; self.seconds = seconds; self.nanos = nanos
    }

    init(_ request: Pbft_request) {
        self.init(replica: request.replicaID, seconds: request.timestamp.seconds, nanos: request.timestamp.nanos)
    }

    static func < (a: RequestKey, b: RequestKey) -> Bool {
        (a.replica, a.seconds, a.nanos) < (b.replica, b.seconds, b.nanos)
    }

    /// Same replica: is this request's timestamp at or before `other`'s?
    func timestampNotAfter(_ seconds: Int64, _ nanos: Int32) -> Bool { (self.seconds, self.nanos) <= (seconds, nanos) }

    var description: String { "\(replica)@\(seconds).\(nanos)" }
}
