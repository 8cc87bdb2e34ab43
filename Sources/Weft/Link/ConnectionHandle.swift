/// A connection's slot in the reactor's table and the generation of the
/// connection that held it (a reused slot gets a new generation).
struct ConnectionHandle: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}
