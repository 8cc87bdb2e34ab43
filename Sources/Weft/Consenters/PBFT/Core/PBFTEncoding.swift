import SwiftProtobuf

/// Encodes PBFT messages with map entries in key order (NEW-VIEW's xset is a
/// map, and a Swift Dictionary's order changes from process to process), so
/// the same message is the same bytes on every replica and every run.
enum PBFTEncoding {
    static let options: BinaryEncodingOptions = {
        var o = BinaryEncodingOptions()
        o.useDeterministicOrdering = true
        return o
    }()

    static func bytes<M: SwiftProtobuf.Message>(_ message: M) -> [UInt8] {
        (try? message.serializedBytes(options: options)) ?? []
    }
}
