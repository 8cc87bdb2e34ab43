/// The reactor's connections: one slot each, a generation per use of a slot
/// (so a handle kept by a timer or the fan never reaches a later connection
/// in the same slot) and the free list. Which peer a connection carries is
/// the peer layer's (`PeerSessions`). Reactor thread only.
final class LinkTable {
    /// Connections past this are refused (`peer.limits.maxConnections`).
    let capacity: Int
    @exclusivity(unchecked) private var slots: [Connection?]
    private var freeSlots: [UInt32]
    private var nextGeneration: UInt32 = 1
    /// Slots reserved or holding a connection.
    @exclusivity(unchecked) private(set) var openCount = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max))
        self.capacity = capacity
        slots = Array(repeating: nil, count: capacity)
        freeSlots = (0..<UInt32(capacity)).reversed()
    }

    // MARK: slots

    /// A free slot with a new generation, or nil when the table is full.
    /// Give it back with `release` if no connection comes of it.
    func reserve() -> ConnectionHandle? {
        guard openCount < capacity, let slot = freeSlots.popLast() else { return nil }
        let generation = nextGeneration
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        openCount += 1
        return ConnectionHandle(slot: slot, generation: generation)
    }

    /// A reserved handle no connection took (a dial that failed at once).
    func release(_ handle: ConnectionHandle) {
        precondition(slots[Int(handle.slot)] == nil, "release of a slot in use")
        freeSlots.append(handle.slot)
        openCount -= 1
    }

    /// Puts `c` in the slot its handle reserved.
    func insert(_ c: Connection) {
        precondition(slots[Int(c.handle.slot)] == nil, "slot \(c.handle.slot) is in use")
        slots[Int(c.handle.slot)] = c
    }

    /// Takes `c` out and frees its slot.
    func remove(_ c: Connection) {
        guard let current = slots[Int(c.handle.slot)], current === c else { return }
        slots[Int(c.handle.slot)] = nil
        freeSlots.append(c.handle.slot)
        openCount -= 1
    }

    /// The connection `handle` names, if it is still that one.
    @inline(__always)
    func connection(_ handle: ConnectionHandle) -> Connection? {
        guard let c = slots[Int(handle.slot)], c.handle.generation == handle.generation else { return nil }
        return c
    }

    /// Every open connection (a copy: the caller may close them meanwhile).
    var all: [Connection] { slots.compactMap { $0 } }
}
