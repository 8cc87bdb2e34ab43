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

/// A structural protobuf check: every key, varint and length must be well
/// formed and inside the body, and the fields the peer reads must have the wire
/// type `fabric.proto` gives them. Unknown fields are skipped (and stay in the
/// bytes, so they are forwarded unchanged). Proto3 semantics: the last `type`
/// and `payload` seen win.
public enum WireScan {
    enum WireType: UInt64 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    /// Scans an encoded `protos.Message`; nil when it is not valid protobuf.
    public static func message(_ body: UnsafeRawBufferPointer) -> MessageHeader? {
        var header = MessageHeader(rawType: 0, payloadOffset: 0, payloadCount: 0)
        var reader = Reader(body)
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            switch (field, wire) {
            case (1, .varint):
                guard let v = reader.varint() else { return nil }
                header.rawType = Int32(truncatingIfNeeded: v)
            case (2, .lengthDelimited):          // google.protobuf.Timestamp: check its structure too
                guard let range = reader.lengthDelimited(),
                      valid(UnsafeRawBufferPointer(rebasing: body[range])) else { return nil }
            case (3, .lengthDelimited):
                guard let range = reader.lengthDelimited() else { return nil }
                header.payloadOffset = range.lowerBound
                header.payloadCount = range.count
            case (1, _), (2, _), (3, _), (4, .varint), (4, .fixed32), (4, .fixed64):
                return nil                       // a known field with the wrong wire type
            default:
                guard reader.skip(wire) else { return nil }
            }
        }
        return header
    }

    /// True when `bytes` is a well-formed sequence of protobuf fields.
    public static func valid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = Reader(bytes)
        while !reader.atEnd {
            guard let (_, wire) = reader.key(), reader.skip(wire) else { return false }
        }
        return true
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var atEnd: Bool { offset >= bytes.count }

        @inline(__always)
        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let b = bytes[offset]
                offset += 1
                value |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return value }
                shift += 7
            }
            return nil                             // truncated, or longer than 10 bytes
        }

        @inline(__always)
        mutating func key() -> (UInt64, WireType)? {
            guard let k = varint(), let wire = WireType(rawValue: k & 7) else { return nil }
            let field = k >> 3
            guard field != 0, field <= 0x1fff_ffff else { return nil }
            return (field, wire)
        }

        mutating func lengthDelimited() -> Range<Int>? {
            guard let n = varint(), n <= UInt64(bytes.count - offset) else { return nil }
            let start = offset
            offset += Int(n)
            return start..<offset
        }

        mutating func skip(_ wire: WireType) -> Bool {
            switch wire {
            case .varint: return varint() != nil
            case .lengthDelimited: return lengthDelimited() != nil
            case .fixed64: return advance(8)
            case .fixed32: return advance(4)
            }
        }

        private mutating func advance(_ n: Int) -> Bool {
            guard bytes.count - offset >= n else { return false }
            offset += n
            return true
        }
    }
}
