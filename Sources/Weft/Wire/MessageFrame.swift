import SwiftProtobuf

/// A framed `protos.Message` with a type and a payload, written straight into
/// a buffer the caller owns (the load tool's requests), with no allocation of
/// its own. `Message(type:payload:)` writes its body with the same two calls.
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
        let at = writeFields(type: type, payloadCount: payloadCount, into: bytes)
        fillPayload(UnsafeMutableRawBufferPointer(rebasing: bytes[at...]))
        return FrameFormat.headerSize + body
    }

    /// Writes the type field and the payload field's header at the start of
    /// `body`; returns the offset where the payload goes.
    @inline(__always)
    static func writeFields(type: Protos_Message.TypeEnum, payloadCount: Int, into body: UnsafeMutableRawBufferPointer) -> Int {
        var at = 0
        let rawType = UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: type.rawValue)))
        if rawType != 0 {
            body[at] = 0x08; at += 1
            at = ProtoEncoding.putVarint(rawType, into: body, at: at)
        }
        if payloadCount > 0 {
            body[at] = 0x1a; at += 1
            at = ProtoEncoding.putVarint(UInt64(payloadCount), into: body, at: at)
        }
        return at
    }

    /// The body's size: the type field, the payload field's header, the payload.
    @inline(__always)
    static func bodySize(type: Protos_Message.TypeEnum, payloadCount: Int) -> Int {
        let rawType = UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: type.rawValue)))
        let typeBytes = rawType == 0 ? 0 : 1 + ProtoEncoding.varintSize(rawType)
        let payloadHeader = payloadCount == 0 ? 0 : 1 + ProtoEncoding.varintSize(UInt64(payloadCount))
        return typeBytes + payloadHeader + payloadCount
    }
}
