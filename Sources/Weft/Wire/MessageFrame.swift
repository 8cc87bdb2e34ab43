import SwiftProtobuf

/// A framed `protos.Message` with a type and a payload, written straight into
/// a buffer the caller owns (the load tool's requests): the same encoding as
/// `Message(type:payload:)`, with no allocation of its own.
public enum MessageFrame {
    /// The bytes of the whole frame (length prefix included).
    public static func size(type: Protos_Message.TypeEnum, payloadCount: Int) -> Int {
        FrameFormat.headerSize + bodySize(type: type, payloadCount: payloadCount)
    }

    /// Writes the frame at `out` (which has `size(...)` bytes), leaving the
    /// payload to `fillPayload`; returns the frame's size.
    @discardableResult
    public static func write(type: Protos_Message.TypeEnum, payloadCount: Int, into out: UnsafeMutableRawPointer,
                             fillPayload: (UnsafeMutableRawBufferPointer) -> Void) -> Int {
        let body = bodySize(type: type, payloadCount: payloadCount)
        FrameFormat.storeLength(UInt32(body), at: out)
        let bytes = UnsafeMutableRawBufferPointer(start: out + FrameFormat.headerSize, count: body)
        var at = 0
        let rawType = UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: type.rawValue)))
        if rawType != 0 {
            bytes[at] = 0x08; at += 1
            at = ProtoEncoding.putVarint(rawType, into: bytes, at: at)
        }
        if payloadCount > 0 {
            bytes[at] = 0x1a; at += 1
            at = ProtoEncoding.putVarint(UInt64(payloadCount), into: bytes, at: at)
        }
        fillPayload(UnsafeMutableRawBufferPointer(rebasing: bytes[at...]))
        return FrameFormat.headerSize + body
    }

    private static func bodySize(type: Protos_Message.TypeEnum, payloadCount: Int) -> Int {
        let rawType = UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: type.rawValue)))
        let typeBytes = rawType == 0 ? 0 : 1 + ProtoEncoding.varintSize(rawType)
        let payloadHeader = payloadCount == 0 ? 0 : 1 + ProtoEncoding.varintSize(UInt64(payloadCount))
        return typeBytes + payloadHeader + payloadCount
    }
}
