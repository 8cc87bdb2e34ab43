import Foundation
import Logging
import Glibc

/// The load-test consenter (PROTOCOL.md section 5): every CONSENSUS message
/// goes back, unchanged and without re-encoding, to its sender; a
/// CHAIN_TRANSACTION is answered with RESPONSE SUCCESS carrying its txid.
public final class EchoConsenter: Consenter, @unchecked Sendable {
    // Set once in start(), read on the fan queue: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var communicator: Communicator?
    private let delayNanos: UInt64

    /// `delayNanos`: time spent per message, to simulate a slow consenter.
    public init(delayNanos: UInt64 = 0) { self.delayNanos = delayNanos }

    public func start(_ context: FanContext) throws { communicator = context.communicator }

    public func recvMsg(_ message: consuming Message, from sender: PeerID) {
        if delayNanos > 0 { Echo.sleep(nanos: delayNanos) }
        switch message.type {
        case .consensus:
            try? communicator?.unicast(consume message, to: sender)   // the sender may have left: nothing to do
        case .chainTransaction:
            try? communicator?.unicast(Responses.forTransaction(message), to: sender)
        default:
            break
        }
    }
}

enum Echo {
    static func sleep(nanos: UInt64) {
        var request = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// RESPONSE messages for clients.
public enum Responses {
    /// SUCCESS with the transaction's txid, or FAILURE naming why it is not a transaction.
    public static func forTransaction(_ message: Message) -> Message {
        guard let tx = try? Protos_Transaction(serializedBytes: message.payload) else {
            return response(.failure, "malformed transaction")
        }
        return response(.success, tx.txid)
    }

    public static func response(_ status: Protos_Response.StatusCode, _ text: String) -> Message {
        var response = Protos_Response()
        response.status = status
        response.msg = Data(text.utf8)
        let payload: [UInt8] = (try? response.serializedBytes()) ?? []
        return Message(type: .response, payload: payload)
    }
}

/// Consenters by their `peer.validator.consensus.plugin` name.
public enum ConsenterRegistry {
    public static let names = ["noops", "pbft", "echo"]

    public static func make(_ config: PeerConfig, logger: Logger = Logger(label: "weft")) throws -> Consenter {
        switch config.consensus.plugin {
        case "echo": return EchoConsenter(delayNanos: config.consensus.echoDelayNanos)
        case "noops": return try NoopsConsenter(config: config, logger: logger)
        case "pbft": return try PBFTConsenter(config: config, logger: logger)
        default: throw ConfigError(key: "peer.validator.consensus.plugin", reason: "unknown plugin '\(config.consensus.plugin)'")
        }
    }
}
