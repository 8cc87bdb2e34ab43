import SwiftProtobuf

/// A `protos.Message` as it travels: its encoded frame, shared and never copied
/// again, plus the type and payload position read from it.
///
/// The echo consenter forwards a `Message` without decoding it; a consenter
/// that needs the fields calls `decode()` (swift-protobuf) or reads `payload`.
// Unchecked: `FrameStorage` is a ManagedBuffer (never Sendable by declaration) whose
// bytes are written once, before the message is shared, and only read after.
public struct Message: @unchecked Sendable {
    public let storage: FrameStorage
    public let header: MessageHeader

    /// Wraps a frame whose body `WireScan` accepted.
    init(storage: FrameStorage, header: MessageHeader) {
        self.storage = storage
        self.header = header
    }

    /// A copy of an encoded body; throws `WireError.malformed` if it is not a Message.
    public init(encoded body: UnsafeRawBufferPointer) throws(WireError) {
        guard let header = WireScan.message(body) else { throw .malformed }
        self.init(storage: FrameStorage.copying(body: body), header: header)
    }

    public init(encoded body: [UInt8]) throws(WireError) {
        let scanned: Result<Message, WireError> = body.withUnsafeBytes { raw in Result { () throws(WireError) in try Message(encoded: raw) } }
        self = try scanned.get()
    }

    /// Encodes a swift-protobuf message.
    public init(_ proto: Protos_Message) {
        // A generated Message always serializes; an error here is a library bug.
        let bytes: [UInt8] = try! proto.serializedBytes()
        try! self.init(encoded: bytes)
    }

    /// A message with just a type and a payload: encoded by hand, no swift-protobuf.
    public init(type: Protos_Message.TypeEnum, payload: some Collection<UInt8>) {
        let total = MessageFrame.bodySize(type: type, payloadCount: payload.count)
        let storage = FrameStorage.make(bodyCount: total) { out in
            let at = MessageFrame.writeFields(type: type, payloadCount: payload.count, into: out)
            if !payload.isEmpty { UnsafeMutableRawBufferPointer(rebasing: out[at...]).copyBytes(from: payload) }
        }
        let header = MessageHeader(rawType: Int32(truncatingIfNeeded: type.rawValue),
                                   payloadOffset: total - payload.count, payloadCount: payload.count)
        self.init(storage: storage, header: header)
    }

    public var type: Protos_Message.TypeEnum { header.type }

    /// The payload bytes, without copying.
    public var payloadBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage.body[header.payloadOffset..<(header.payloadOffset + header.payloadCount)])
    }

    /// A copy of the payload.
    public var payload: [UInt8] { Array(payloadBytes) }

    /// The encoded body (a copy).
    public var encoded: [UInt8] { Array(storage.body) }

    /// Decodes every field with swift-protobuf; unknown fields are kept.
    public func decode() throws -> Protos_Message {
        try Protos_Message(serializedBytes: encoded)
    }
}
