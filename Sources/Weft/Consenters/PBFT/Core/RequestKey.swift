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

    // Hashed for every request several times (pool, pending set, origins, clients):
    // two 64-bit words through the one-word SipHash of the standard library, chained,
    // where the synthesized hash streams three fields through a `Hasher` (issue 24:
    // `Hasher` 5.4 % of the primary's samples; 36 ns against 51 for an insert, look-up
    // and removal in a dictionary of 8,192 keys). Still keyed by the per-process seed,
    // and the words are the key's bits one to one for replica ids below 2^32 (hosts take
    // requests only under the validators' ids), so no one can choose keys that collide.
    private var words: (UInt64, UInt64) {
        (UInt64(bitPattern: seconds), replica << 32 ^ replica >> 32 ^ UInt64(UInt32(bitPattern: nanos)))
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }

    func _rawHashValue(seed: Int) -> Int {
        let (first, second) = words
        let chained = UInt64(UInt(bitPattern: first._rawHashValue(seed: seed))) ^ second
        return chained._rawHashValue(seed: seed)
    }
}
