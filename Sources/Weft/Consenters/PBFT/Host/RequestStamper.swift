import SwiftProtobuf

/// Request timestamps, from the wall clock but strictly increasing: a
/// request's key (replica, timestamp) is how every replica tells it apart and
/// refuses it once executed.
struct RequestStamper {
    private(set) var last: (seconds: Int64, nanos: Int32) = (0, 0)

    /// The next stamp: `wallClock` unless that is not after the last one given.
    mutating func next(wallClock now: (seconds: Int64, nanos: Int32)) -> Google_Protobuf_Timestamp {
        var stamp = now
        if stamp.seconds < last.seconds || (stamp.seconds == last.seconds && stamp.nanos <= last.nanos) {
            stamp = last.nanos >= 999_999_999 ? (last.seconds + 1, 0) : (last.seconds, last.nanos + 1)
        }
        last = stamp
        var timestamp = Google_Protobuf_Timestamp()
        timestamp.seconds = stamp.seconds
        timestamp.nanos = stamp.nanos
        return timestamp
    }
}
