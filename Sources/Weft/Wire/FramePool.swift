/// Frames the reactor finished with, kept for the next inbound message.
///
/// Batches of messages outrun glibc's small per-thread cache, so a plain
/// allocate/free per message takes malloc's slow path. A frame comes back
/// here only when the reactor holds its last reference (after its bytes were
/// copied into a write buffer), so reusing it can surprise nobody. Reactor
/// thread only; bounded in count and in frame size.
final class FramePool {
    static let maxFrameBytes = 1024
    @exclusivity(unchecked) private var frames: [FrameStorage] = []
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        frames.reserveCapacity(limit)
    }

    /// A frame holding a copy of `body`.
    @inline(__always)
    func copying(body: UnsafeRawBufferPointer) -> FrameStorage {
        let needed = FrameFormat.headerSize + body.count
        if needed <= FramePool.maxFrameBytes, let frame = frames.popLast() {
            frame.fill(bodyCount: body.count) { dst in
                if let src = body.baseAddress, body.count > 0 { dst.baseAddress!.copyMemory(from: src, byteCount: body.count) }
            }
            return frame
        }
        // Small frames are made at the pool's size so any of them can be reused.
        return FrameStorage.make(bodyCount: body.count, capacity: needed <= FramePool.maxFrameBytes ? FramePool.maxFrameBytes : needed) { dst in
            if let src = body.baseAddress, body.count > 0 { dst.baseAddress!.copyMemory(from: src, byteCount: body.count) }
        }
    }

    /// Takes `frame` back if nothing else references it.
    @inline(__always)
    func recycle(_ frame: consuming FrameStorage) {
        var frame = frame
        guard frames.count < limit, isKnownUniquelyReferenced(&frame), frame.capacityBytes == FramePool.maxFrameBytes else { return }
        frames.append(consume frame)
    }
}
