import Synchronization

/// What the consensus fan may know of the reactor's connections, without
/// asking the reactor thread:
/// - per slot, the generation of the live established connection (atomic), so
///   `unicast` to a sender checks liveness with one load;
/// - the established peers by name (under a mutex, changed only when a peer
///   comes or goes), for `unicast` by name and `peers()`.
final class PeerDirectory: @unchecked Sendable {   // atomics and a mutex only
    private let generations: UnsafeMutablePointer<Atomic<UInt32>>
    let slotCount: Int
    private let byName = Mutex<[String: PeerInfo]>([:])

    init(slotCount: Int) {
        self.slotCount = slotCount
        generations = .allocate(capacity: slotCount)
        for i in 0..<slotCount { (generations + i).initialize(to: Atomic(0)) }
    }

    deinit {
        generations.deinitialize(count: slotCount)
        generations.deallocate()
    }

    /// Reactor: a peer finished its handshake.
    func established(_ info: PeerInfo) {
        if let handle = info.id.handle { generations[Int(handle.slot)].store(handle.generation, ordering: .releasing) }
        byName.withLock { $0[info.name] = info }
    }

    /// Reactor: an established peer's connection closed.
    func closed(_ id: PeerID) {
        guard let handle = id.handle else { return }
        generations[Int(handle.slot)].store(0, ordering: .releasing)
        byName.withLock { names in
            if names[id.name]?.id.handle == handle { names[id.name] = nil }
        }
    }

    @inline(__always)
    func isLive(_ handle: ConnectionHandle) -> Bool {
        generations[Int(handle.slot)].load(ordering: .acquiring) == handle.generation
    }

    /// The live connection for `peer`: its own handle if still live, else by name.
    func resolve(_ peer: PeerID) -> ConnectionHandle? {
        if let handle = peer.handle, isLive(handle) { return handle }
        return byName.withLock { $0[peer.name]?.id.handle }
    }

    func snapshot() -> [PeerInfo] {
        byName.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }
}
