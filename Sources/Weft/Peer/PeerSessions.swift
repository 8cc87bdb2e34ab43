/// The peer layer's table of its sessions: one `PeerSession` per connection
/// slot (a dense array, so the per-frame "is it established?" is one load
/// and no look-up), valid for the connection generation it names, and the
/// established connections by peer name (one per name). Reactor thread only.
final class PeerSessions {
    let slotCount: Int
    private let sessions: UnsafeMutablePointer<PeerSession>
    /// Established connections by peer name.
    @exclusivity(unchecked) private(set) var byName: [String: Connection] = [:]

    init(slotCount: Int) {
        precondition(slotCount > 0)
        self.slotCount = slotCount
        sessions = .allocate(capacity: slotCount)
        sessions.initialize(repeating: .none, count: slotCount)
    }

    deinit {
        sessions.deinitialize(count: slotCount)
        sessions.deallocate()
    }

    // MARK: reading

    /// Whether `handle`'s connection is its peer's established link (per frame: two loads).
    @inline(__always)
    func isEstablished(_ handle: ConnectionHandle) -> Bool {
        let session = sessions + Int(handle.slot)
        return session.pointee.generation == handle.generation && session.pointee.phase == .established
    }

    /// The session of `handle`'s connection (`.none` if it has none).
    func session(_ handle: ConnectionHandle) -> PeerSession {
        let session = sessions[Int(handle.slot)]
        return session.generation == handle.generation ? session : .none
    }

    /// The peer `handle`'s connection carries, once its hello was accepted.
    func peer(of handle: ConnectionHandle) -> PeerInfo? {
        let session = sessions + Int(handle.slot)
        return session.pointee.generation == handle.generation ? session.pointee.peer : nil
    }

    /// Its peer's type, for a broadcast's filter (`.undefined` before the hello).
    @inline(__always)
    func peerType(of handle: ConnectionHandle) -> PeerType {
        let session = sessions + Int(handle.slot)
        return session.pointee.generation == handle.generation ? session.pointee.peer?.type ?? .undefined : .undefined
    }

    /// The peer's name, or "" before its hello.
    func name(of handle: ConnectionHandle) -> String { session(handle).name }

    func established(named name: String) -> Connection? { byName[name] }

    var establishedCount: Int { byName.count }

    // MARK: the transitions (the peer layer's)

    /// `c`'s link is up: its hello is awaited until `deadline`.
    func open(_ c: Connection, helloDeadline deadline: UInt64) {
        sessions[Int(c.handle.slot)] = .awaitingHello(generation: c.handle.generation, deadline: deadline)
    }

    /// `c`'s hello was accepted: it carries `info`'s peer.
    func identify(_ c: Connection, as info: PeerInfo) {
        update(c) { $0.identified(as: info) }
    }

    /// The hello exchange is done: `c` is its peer's established link, found
    /// by name (the hello decision has removed any other of that name first).
    func establish(_ c: Connection, wallClock: Double) {
        let name = session(c.handle).name
        precondition(byName[name] == nil, "\(name) is established twice")
        update(c) { $0.established(wallClock: wallClock) }
        byName[name] = c
    }

    /// `c` is saying goodbye: if it was established, it no longer is, and its peer is returned.
    func leave(_ c: Connection) -> PeerInfo? {
        let current = session(c.handle)
        guard current.phase == .established, let peer = current.peer else { return nil }
        update(c) { $0.leaving() }
        if byName[peer.name] === c { byName[peer.name] = nil }
        return peer
    }

    /// `c` is closed: its session ends (leaving the by-name index too); the session it had.
    func end(_ c: Connection) -> PeerSession {
        let last = session(c.handle)
        if let name = last.peer?.name, byName[name] === c { byName[name] = nil }
        if last.generation != 0 { sessions[Int(c.handle.slot)] = .none }
        return last
    }

    private func update(_ c: Connection, _ change: (PeerSession) -> PeerSession) {
        let slot = Int(c.handle.slot)
        guard sessions[slot].generation == c.handle.generation else { return }
        sessions[slot] = change(sessions[slot])
    }
}
