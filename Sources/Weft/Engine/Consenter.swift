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

/// A connection's slot in the reactor's table and the generation of the
/// connection that held it (a reused slot gets a new generation).
struct ConnectionHandle: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}

public typealias PeerType = Protos_PeerEndpoint.TypeEnum

/// An established peer.
public struct PeerInfo: Sendable, Equatable {
    public let id: PeerID
    public let address: String
    public let type: PeerType
    /// With TLS on: the certificate this peer presented in its handshake
    /// (DER), verified against `peer.tls.rootcert.file` and naming `name`.
    /// A consenter checks signatures of messages that claim to come from
    /// this peer against it (`SignatureVerifier(certificateDER:)`). Nil
    /// without TLS.
    public var certificate: [UInt8]? = nil
    public var name: String { id.name }
}

public enum BroadcastTarget: Sendable {
    case validators, nonValidators, all

    func includes(_ type: PeerType) -> Bool {
        switch self {
        case .all: return true
        case .validators: return type == .validator
        case .nonValidators: return type != .validator
        }
    }
}

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

/// How a consenter talks to the network (Fabric's `consensus.Communicator`).
/// Call it only on the consensus fan's queue (where `recvMsg` runs, or a
/// timer the consenter put on `FanContext.queue`).
public protocol Communicator: Sendable {
    /// Sends to every established peer of that type: one encoding, many writes.
    func broadcast(_ message: consuming Message, to target: BroadcastTarget)
    /// Sends to one peer; throws `unknownPeer` when it is not established.
    func unicast(_ message: consuming Message, to peer: PeerID) throws(CommunicatorError)
    /// The established peers now.
    func peers() -> [PeerInfo]
}

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

/// A consensus plug-in (Fabric's `consensus.Consenter`). All calls arrive on
/// the fan's serial queue, in the order the messages arrived, so an
/// implementation needs no locks of its own.
public protocol Consenter: AnyObject, Sendable {
    /// Called once, on the fan queue, before any message.
    func start(_ context: FanContext) throws
    /// A CONSENSUS or CHAIN_TRANSACTION message and the peer that sent it.
    ///
    /// The message is handed over (`consuming`): a consenter that forwards it
    /// (`unicast(message, …)` as its last use) passes the frame on without
    /// the fan thread ever touching the frame's reference count.
    func recvMsg(_ message: consuming Message, from sender: PeerID)
    /// Shutdown: every queued message has been delivered; finish what is
    /// pending (write blocks, answer clients) before returning.
    func stop()
    /// The height of this peer's chain, for DISC_HELLO (any thread).
    var chainHeight: UInt64 { get }
    /// What is wrong now, one short phrase each naming the check (for
    /// example `ledger: write failed: No space left on device`); empty when
    /// healthy. /healthz answers 503 with these (any thread).
    var failedHealthChecks: [String] { get }
    /// The consenter's own metrics, appended to /metrics in Prometheus text
    /// format (called on the reactor thread: read only thread-safe state).
    func writeMetrics(to text: inout String)
}

extension Consenter {
    public func start(_ context: FanContext) throws {}
    public func stop() {}
    public var chainHeight: UInt64 { 0 }
    public var failedHealthChecks: [String] { [] }
    public func writeMetrics(to text: inout String) {}
}
