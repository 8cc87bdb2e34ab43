/// Splits a byte stream into frames (PROTOCOL.md section 1).
///
/// `FrameCursor.next` reads one frame from a buffer without copying. A
/// connection's `FrameReader` keeps only what a read left unfinished — a
/// partial frame, or frames held back by backpressure — so an idle connection
/// holds no buffer at all, and the reactor reads into its shared scratch
/// buffer whenever a connection has nothing pending.
public enum FrameCursor {
    public enum Step: Equatable {
        /// A whole frame: its body starts 4 bytes after `offset`.
        case frame(offset: Int, bodyCount: Int)
        /// Not enough bytes; `needed` is the size of the whole frame when its
        /// length is known (0 when even the length is incomplete).
        case incomplete(needed: Int)
        /// The length exceeds the limit: the connection must go.
        case tooLarge(UInt32)
    }

    @inline(__always)
    public static func next(in bytes: UnsafeRawBufferPointer, at offset: Int, maxFrameSize: Int) -> Step {
        let available = bytes.count - offset
        guard available >= FrameFormat.headerSize else { return .incomplete(needed: 0) }
        let length = FrameFormat.loadLength(bytes.baseAddress! + offset)
        guard Int(length) <= maxFrameSize else { return .tooLarge(length) }
        let whole = FrameFormat.headerSize + Int(length)
        guard available >= whole else { return .incomplete(needed: whole) }
        return .frame(offset: offset, bodyCount: Int(length))
    }
}
