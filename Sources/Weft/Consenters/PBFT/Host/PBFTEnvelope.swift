import Foundation

/// The CONSENSUS payload between validators (Fabric v0.6's
/// `pbft.batch_message`): a client request being spread to every replica, or
/// an encoded PBFT protocol message. Built and opened only here.
///
/// **Weft:** the requests a validator spreads in one round go out in one
/// envelope, `request_batch` (defined in v0.6, unused there), when there are
/// several: one frame, one envelope to encode and decode, one ring slot at
/// each receiver instead of one per request (PROTOCOL.md section 10).
enum PBFTEnvelope {
    enum Content {
        case request(Pbft_request)
        /// Several requests spread together, in the order they were made.
        case requests([Pbft_request])
        case protocolMessage(Pbft_message)
        /// Does not decode, or a kind Weft does not use (complaint).
        case undecodable
    }

    /// A request spread to the other replicas, as when it first came from its client.
    static func spread(_ request: Pbft_request) -> Message? {
        var envelope = Pbft_batch_message()
        envelope.request = request
        return consensus(envelope)
    }

    /// Requests spread together (one alone goes as `spread` does, as v0.6 sends it).
    static func spread(_ requests: [Pbft_request]) -> Message? {
        guard requests.count > 1 else { return requests.first.flatMap(spread) }
        var batch = Pbft_request_batch()
        batch.batch = requests
        var envelope = Pbft_batch_message()
        envelope.requestBatch = batch
        return consensus(envelope)
    }

    /// A PBFT protocol message.
    static func carrying(_ message: Pbft_message) -> Message? {
        var envelope = Pbft_batch_message()
        envelope.pbftMessage = Data(PBFTEncoding.bytes(message))
        return consensus(envelope)
    }

    static func open(_ payload: [UInt8]) -> Content {
        guard let envelope = try? Pbft_batch_message(serializedBytes: payload) else { return .undecodable }
        switch envelope.payload {
        case .request(let request):
            return .request(request)
        case .requestBatch(let batch):
            return .requests(batch.batch)
        case .pbftMessage(let bytes):
            guard let inner = try? Pbft_message(serializedBytes: bytes) else { return .undecodable }
            return .protocolMessage(inner)
        default:
            return .undecodable
        }
    }

    private static func consensus(_ envelope: Pbft_batch_message) -> Message? {
        guard let payload: [UInt8] = try? envelope.serializedBytes() else { return nil }
        return Message(type: .consensus, payload: payload)
    }
}
