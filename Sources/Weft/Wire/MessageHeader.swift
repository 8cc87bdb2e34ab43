/// What the reactor needs of a `protos.Message` without building one: its type
/// and where its payload lies. Produced by `WireScan.message`, which also checks
/// that the body is well-formed protobuf, so a malformed frame is caught on the
/// reactor thread without a decode.
public struct MessageHeader: Sendable, Equatable {
    /// The raw `type` field (unknown enum values are kept as they are).
    public var rawType: Int32
    /// Offset and length of the `payload` field's bytes within the body.
    public var payloadOffset: Int
    public var payloadCount: Int

    public var type: Protos_Message.TypeEnum { Protos_Message.TypeEnum(rawValue: Int(rawType)) ?? .UNRECOGNIZED(Int(rawType)) }
}
