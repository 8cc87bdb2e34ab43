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
