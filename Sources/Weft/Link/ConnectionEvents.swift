/// A connection's readiness, to the link layer: what the event loop holds for
/// its descriptor. It holds the connection, so a connection closed by its own
/// event lives until that event is handled.
final class ConnectionEvents: EventHandler {
    private let links: Upward<LinkIO>
    private let connection: Connection
    init(links: LinkIO, connection: Connection) { self.links = Upward(links); self.connection = connection }
    func handleEvents(_ events: UInt32) { links { $0.connectionReady(connection, events: events) } }
}
