/// What the consenter asked the reactor to send: to one connection, or
/// (`handle` nil) to every established peer that `target` includes.
struct OutboundItem: Sendable {
    let message: Message
    let handle: ConnectionHandle?
    let target: BroadcastTarget
}
