/// One whole frame — the 4-byte big-endian length and the encoded `protos.Message`
/// after it — in a single heap block that never moves.
///
/// The frame is built once (copied out of a read buffer, or encoded) and then
/// shared without copying: the consensus ring, the consenter, and every
/// connection's write queue hold references, and `writev` sends straight from it.
///
/// A `ManagedBuffer` subclass: the object and its bytes are one allocation.
public final class FrameStorage: ManagedBuffer<Int, UInt8> {
    // Immutable once made: safe to share across threads.

    /// A frame of `bodyCount` body bytes whose body `fill` writes.
    static func make(bodyCount: Int, capacity: Int? = nil, fill: (UnsafeMutableRawBufferPointer) -> Void) -> FrameStorage {
        let bytes = max(capacity ?? 0, FrameFormat.headerSize + bodyCount)
        let storage = unsafeDowncast(FrameStorage.create(minimumCapacity: bytes) { _ in bytes }, to: FrameStorage.self)
        storage.fill(bodyCount: bodyCount, fill)
        return storage
    }

    /// Bytes the frame may hold (what it was made for).
    @inline(__always)
    var capacityBytes: Int { withUnsafeMutablePointerToHeader { $0.pointee } }

    /// Writes a new frame into this storage. Only for storage nobody else
    /// references (see `FramePool`).
    @inline(__always)
    func fill(bodyCount: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let base = self.base
        FrameFormat.storeLength(UInt32(bodyCount), at: base)
        fill(UnsafeMutableRawBufferPointer(start: base + FrameFormat.headerSize, count: bodyCount))
    }

    /// A copy of an encoded message body.
    static func copying(body: UnsafeRawBufferPointer) -> FrameStorage {
        make(bodyCount: body.count) { dst in
            if let src = body.baseAddress, body.count > 0 { dst.baseAddress!.copyMemory(from: src, byteCount: body.count) }
        }
    }

    /// The first byte of the frame (stable for the object's lifetime).
    @inline(__always)
    var base: UnsafeMutableRawPointer { withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) } }

    /// Bytes in the frame, length prefix included. Read from the prefix itself:
    /// `header` is a class stored property, and every read of it would pay for
    /// a dynamic exclusivity check.
    @inline(__always)
    public var frameCount: Int { FrameFormat.headerSize + Int(FrameFormat.loadLength(base)) }

    /// The whole frame, length prefix included.
    public var frame: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: frameCount) }

    /// The encoded `protos.Message`, without the length prefix.
    public var body: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + FrameFormat.headerSize, count: frameCount - FrameFormat.headerSize)
    }
}
