import Dispatch

/// What a consenter gets when the peer starts.
public struct FanContext: Sendable {
    /// The consensus fan's serial queue: `recvMsg` runs here; run timers here too.
    public let queue: DispatchQueue
    public let communicator: Communicator
    /// This peer's own identity.
    public let selfID: PeerID
    /// `peer.fileSystemPath`.
    public let dataDirectory: String
}
