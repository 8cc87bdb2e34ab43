import Synchronization

/// A bounded, lock-free, single-producer/single-consumer queue (after
/// rigtorp's SPSCQueue).
///
/// - `head` (consumer) and `tail` (producer) are monotonically increasing
///   counters on separate cache lines; a slot is `index & mask`.
/// - Each side keeps a private cached copy of the other's counter and reloads
///   it (acquire) only when the cache says full/empty, so in steady state a
///   push or pop touches one shared line.
/// - The capacity is rounded up to a power of two.
///
/// Exactly one thread may push and exactly one may pop at a time.
public final class SPSCRing<Element>: @unchecked Sendable {
    private let leadingPad = CacheLinePad()
    private let head = Atomic<Int>(0)          // next slot to pop; written by the consumer
    private let headPad = CacheLinePad()
    private let tail = Atomic<Int>(0)          // next slot to push; written by the producer
    private let tailPad = CacheLinePad()

    private let slots: UnsafeMutablePointer<Element>
    private let mask: Int
    public let capacity: Int
    /// Line 0: the producer's copy of `head`; line 1: the consumer's copy of `tail`.
    private let cachedIndexes: UnsafeMutableRawPointer

    public init(capacity requested: Int) {
        precondition(requested > 0, "ring capacity must be positive")
        capacity = SPSCRing.roundUpToPowerOfTwo(requested)
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        cachedIndexes = .allocate(byteCount: 2 * CacheLinePad.size, alignment: CacheLinePad.size)
        producerCachedHead.initialize(to: 0)
        consumerCachedTail.initialize(to: 0)
    }

    deinit {
        var h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .relaxed)
        while h != t { (slots + (h & mask)).deinitialize(count: 1); h &+= 1 }
        slots.deallocate()
        cachedIndexes.deallocate()
    }

    public static func roundUpToPowerOfTwo(_ n: Int) -> Int {
        n <= 1 ? 1 : 1 << (Int.bitWidth - (n - 1).leadingZeroBitCount)
    }

    private var producerCachedHead: UnsafeMutablePointer<Int> { cachedIndexes.assumingMemoryBound(to: Int.self) }
    private var consumerCachedTail: UnsafeMutablePointer<Int> {
        (cachedIndexes + CacheLinePad.size).assumingMemoryBound(to: Int.self)
    }

    // MARK: producer side

    /// True when a push would succeed (producer only).
    @inline(__always)
    public func hasRoom() -> Bool {
        let t = tail.load(ordering: .relaxed)
        if t &- producerCachedHead.pointee < capacity { return true }
        producerCachedHead.pointee = head.load(ordering: .acquiring)
        return t &- producerCachedHead.pointee < capacity
    }

    /// Appends `element`, or returns false (and drops nothing) when full.
    @inline(__always)
    public func push(_ element: consuming Element) -> Bool {
        guard hasRoom() else { return false }
        pushAfterRoomCheck(element)
        return true
    }

    /// Appends `element`; the producer has just seen `hasRoom()` return true
    /// (only it adds elements, so the room is still there).
    @inline(__always)
    public func pushAfterRoomCheck(_ element: consuming Element) {
        let t = tail.load(ordering: .relaxed)
        (slots + (t & mask)).initialize(to: element)
        tail.store(t &+ 1, ordering: .releasing)
    }

    // MARK: consumer side

    /// Removes the oldest element, or nil when empty (consumer only).
    @inline(__always)
    public func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        if h == consumerCachedTail.pointee {
            consumerCachedTail.pointee = tail.load(ordering: .acquiring)
            if h == consumerCachedTail.pointee { return nil }
        }
        let element = (slots + (h & mask)).move()
        head.store(h &+ 1, ordering: .releasing)
        return element
    }

    // MARK: either side

    /// Elements in the ring now (a fresh, approximate view from either thread).
    public var count: Int {
        let h = head.load(ordering: .acquiring)
        return tail.load(ordering: .acquiring) &- h
    }

    public var isEmpty: Bool { count == 0 }
}
