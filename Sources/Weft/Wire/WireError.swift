import SwiftProtobuf

/// A body that is not a `protos.Message`.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case malformed

    public var description: String { "malformed frame" }
}
