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

/// A growable byte buffer owned by one connection: bytes are appended at the
/// end and consumed from the front; the unread part is moved to the front only
/// when the free space behind it is too small, so each byte moves at most once
/// per frame and never quadratically.
public struct FrameReader: ~Copyable {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    private var start = 0
    private var end = 0

    public init() {}

    deinit { base?.deallocate() }

    public var isEmpty: Bool { start == end }
    public var count: Int { end - start }
    public var allocatedBytes: Int { capacity }

    /// The bytes not consumed yet.
    public var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + start }, count: end - start)
    }

    /// Free space for at least `minimum` more bytes (growing or compacting once).
    public mutating func writable(minimum: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - end < minimum {
            let live = end - start
            if capacity - live >= minimum, let base {
                base.copyMemory(from: base + start, byteCount: live)   // compact (regions may overlap: memmove)
            } else {
                var newCapacity = max(capacity, 16 * 1024)
                while newCapacity - live < minimum { newCapacity *= 2 }
                let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
                if let base { grown.copyMemory(from: base + start, byteCount: live); base.deallocate() }
                base = grown
                capacity = newCapacity
            }
            start = 0
            end = live
        }
        return UnsafeMutableRawBufferPointer(start: base! + end, count: capacity - end)
    }

    /// Marks `n` bytes written into the space `writable` returned.
    public mutating func commit(_ n: Int) { end += n }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let space = writable(minimum: bytes.count)
        space.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        commit(bytes.count)
    }

    /// Drops `n` bytes from the front; frees the buffer once nothing is left,
    /// so idle connections cost no buffer memory.
    public mutating func consume(_ n: Int) {
        start += n
        if start == end { release() }
    }

    public mutating func release() {
        base?.deallocate()
        base = nil
        capacity = 0
        start = 0
        end = 0
    }
}
