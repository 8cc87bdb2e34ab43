import SwiftProtobuf

/// Request timestamps, from the wall clock but strictly increasing: a
/// request's key (replica, timestamp) is how every replica tells it apart and
/// refuses it once executed.
///
/// Across restarts and wall-clock steps back (L4): every stamp given is below
/// a *ceiling* that is recorded (a `PBFTReady.records` entry, durable before
/// any request under it is sent); a restarted host starts above the recorded
/// ceiling, so its new requests are never refused as already executed. The
/// ceiling is raised `headroomSeconds` at a time: one record per minute of
/// stamps at most, never one per request.
struct RequestStamper {
    static let ceilingKey = "stampceiling"
    static let headroomSeconds: Int64 = 60
    /// The last second a protobuf Timestamp may hold (9999-12-31T23:59:59Z).
    static let maxSeconds: Int64 = 253_402_300_799

    private(set) var last: (seconds: Int64, nanos: Int32) = (0, 0)
    /// Every stamp given is below this second (0: none recorded yet).
    private(set) var ceiling: Int64 = 0

    /// A host's stamper; a restarted host's (`ceilingRecord` its stored record)
    /// stamps after the recorded ceiling.
    init(ceilingRecord: [UInt8]? = nil) {
        guard let record = ceilingRecord, let seconds = Int64(String(decoding: record, as: UTF8.self)) else { return }
        ceiling = seconds
        last = (seconds, 0)
    }

    /// The next stamp, and the ceiling record to store before any request under it is sent (nil: none needed).
    /// `executed`: this replica's latest request executed by the chain (its stamps travel with the
    /// blocks): the stamp is after it even when this host's own memory of its stamps is gone (a
    /// wiped disk, its records lost) and its clock is behind.
    /// Nil when no later stamp fits a Timestamp with its ceiling: only a forged request of this
    /// replica's, stamped near the largest time and executed, gets the stamps there.
    mutating func next(wallClock now: (seconds: Int64, nanos: Int32),
                       after executed: RequestStamps.Stamp? = nil) -> (stamp: Google_Protobuf_Timestamp, ceilingRecord: [UInt8]?)? {
        if let executed, (executed.seconds, executed.nanos) > last { last = (executed.seconds, executed.nanos) }
        guard last.seconds < Self.maxSeconds - Self.headroomSeconds else { return nil }
        var stamp = now
        if stamp.seconds < last.seconds || (stamp.seconds == last.seconds && stamp.nanos <= last.nanos) {
            stamp = last.nanos >= 999_999_999 ? (last.seconds + 1, 0) : (last.seconds, last.nanos + 1)
        }
        last = stamp
        var record: [UInt8]?
        if stamp.seconds >= ceiling {
            ceiling = stamp.seconds + Self.headroomSeconds
            record = Array(String(ceiling).utf8)
        }
        var timestamp = Google_Protobuf_Timestamp()
        timestamp.seconds = stamp.seconds
        timestamp.nanos = stamp.nanos
        return (timestamp, record)
    }
}
