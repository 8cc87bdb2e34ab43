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
