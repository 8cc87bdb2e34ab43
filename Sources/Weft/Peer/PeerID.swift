import Dispatch

/// A peer as consenters see it: its name, and (for messages it sent) a handle
/// to its connection, so a reply goes back without a look-up by name.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    let handle: ConnectionHandle?

    public init(name: String) { self.name = name; handle = nil }
    init(name: String, handle: ConnectionHandle) { self.name = name; self.handle = handle }

    public static func == (a: PeerID, b: PeerID) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    public var description: String { name }
}
