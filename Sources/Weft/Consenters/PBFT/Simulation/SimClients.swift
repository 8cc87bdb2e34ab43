import Foundation

/// The clients: each transaction is sent by a client of its own (so every
/// answer is matched to its request) to one validator; every RESPONSE is recorded.
final class SimClients {
    struct Request {
        let txid: String
        let payload: Data
        let host: Int
        /// The host's process at submission: a client whose validator died since lost its connection.
        let incarnation: Int
        let submittedAt: UInt64
        var answers: [(success: Bool, text: String, at: UInt64)] = []
    }

    private(set) var requests: [Request] = []
    private var byClient: [String: Int] = [:]
    /// txid -> the payload its client sent (validity).
    private(set) var payloadByTxid: [String: Data] = [:]
    let seed: UInt64

    init(seed: UInt64) { self.seed = seed }

    /// A new transaction for `host`: its client name and CHAIN_TRANSACTION message.
    func make(host: Int, incarnation: Int, at now: UInt64) -> (client: String, message: Message) {
        let index = requests.count
        let txid = "tx-\(seed)-\(index)"
        var tx = Protos_Transaction()
        tx.type = .chaincodeInvoke
        tx.txid = txid
        tx.payload = Data("payload \(index) of seed \(seed) via vp\(host)".utf8)
        let bytes: [UInt8] = (try? tx.serializedBytes()) ?? []
        requests.append(Request(txid: txid, payload: tx.payload, host: host, incarnation: incarnation, submittedAt: now))
        payloadByTxid[txid] = tx.payload
        let client = "client\(index)"
        byClient[client] = index
        return (client, Message(type: .chainTransaction, payload: bytes))
    }

    /// Records a RESPONSE to `client`; its request's index, or nil for an unknown client.
    func record(_ message: Message, client: String, at now: UInt64) -> Int? {
        guard let index = byClient[client], let response = try? Protos_Response(serializedBytes: message.payload) else { return nil }
        requests[index].answers.append((response.status == .success, String(decoding: response.msg, as: UTF8.self), now))
        return index
    }
}
