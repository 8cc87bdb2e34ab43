/// A whole frame, handed up from the link layer: the bytes still sit in a
/// read buffer, valid only during the call.
struct InboundFrame {
    /// Length prefix and body.
    let frame: UnsafeRawBufferPointer
    let header: MessageHeader

    @inline(__always)
    var body: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: frame[FrameFormat.headerSize...]) }
    var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: body[header.payloadOffset..<(header.payloadOffset + header.payloadCount)])
    }
}
