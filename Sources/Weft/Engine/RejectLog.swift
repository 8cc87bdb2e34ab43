/// "Message channel for <id> full, rejecting", logged at most once a second
/// per connection: the engine's own record of one connection's rejects.
struct RejectLog {
    /// The connection it is about (a slot's next connection starts afresh).
    let generation: UInt32
    var lastLoggedAt: UInt64 = 0
    var sinceLog = 0
}
