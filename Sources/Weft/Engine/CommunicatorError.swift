import Dispatch

public enum CommunicatorError: Error, Equatable, CustomStringConvertible {
    case unknownPeer(String)
    /// Never thrown: a send after the reactor stopped is dropped (and counted).
    /// Kept so that embedders' `switch`es still compile.
    @available(*, deprecated, message: "never thrown: sends after shutdown are dropped and counted")
    case stopped

    public var description: String {
        if case .unknownPeer(let name) = self { return "unicast: no established peer named '\(name)'" }
        return "the peer is shutting down"
    }
}
