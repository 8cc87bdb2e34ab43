import Foundation

/// Submits one transaction to a peer's client port, as a NON_VALIDATOR peer
/// would (PROTOCOL.md sections 2 and 4): DISC_HELLO, the peer's DISC_HELLO,
/// CHAIN_TRANSACTION, then — when waiting — the RESPONSE that names the txid.
/// Blocking, bounded by one timeout: for `weft tx submit` and the REST
/// server's threads, never the reactor.
public struct TransactionClient: Sendable {
    /// The peer could not be reached, refused the hello, or broke the connection.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        static func unreachable(_ why: String) -> Failure { Failure(description: why) }
    }

    public let target: HostPort
    /// The DISC_HELLO name; with TLS it must be one the client certificate carries.
    public let name: String
    let tls: TLSContext?

    /// A plain TCP client.
    public init(target: HostPort, name: String) {
        self.target = target
        self.name = name
        tls = nil
    }

    /// A TLS 1.3 client with `tls` (cert, key, root CA): the certificate must
    /// carry `name` (CN or DNS SAN); a file that will not do throws, naming its key.
    public init(target: HostPort, name: String, tls: PeerConfig.TLS) throws(ConfigError) {
        self.target = target
        self.name = name
        self.tls = try TLSContext(tls, expectedName: name, nameOrigin: "the client name")
    }

    /// A new transaction id: a UUID, as Fabric v0.6's `util.GenerateUUID`.
    public static func newTxid() -> String { UUID().uuidString.lowercased() }

    /// The transaction a client sends: CHAINCODE_INVOKE with `payload`, stamped now.
    public static func transaction(txid: String, payload: [UInt8]) -> Protos_Transaction {
        var tx = Protos_Transaction()
        tx.type = .chaincodeInvoke
        tx.txid = txid
        tx.payload = Data(payload)
        let now = Date().timeIntervalSince1970
        tx.timestamp.seconds = Int64(now)
        tx.timestamp.nanos = Int32((now - Double(Int64(now))) * 1e9)
        return tx
    }

    /// Sends `transaction`; with `wait`, returns the validator's answer (or
    /// `.noAnswer` when `timeoutNanos` passed first), else `.submitted` once
    /// the peer has read it. Throws `Failure` when the peer cannot be used.
    public func submit(_ transaction: Protos_Transaction, wait: Bool, timeoutNanos: UInt64) throws(Failure) -> TransactionOutcome {
        let deadline = MonotonicClock.now() + timeoutNanos
        let connection: ClientConnection
        do {
            connection = try ClientConnection(target: target, tls: tls, deadline: deadline)
        } catch let failure as ClientConnection.Failure {
            if failure.timedOut { return .noAnswer("cannot connect to \(target) in time") }
            throw .unreachable(failure.description)
        } catch {
            throw .unreachable("\(target): \(error)")
        }
        defer { connection.close() }
        do {
            try handshake(connection, deadline: deadline)
            let body: [UInt8] = try transaction.serializedBytes()
            try connection.send(Message(type: .chainTransaction, payload: body), deadline: deadline)
            return wait ? try answer(to: transaction.txid, on: connection, deadline: deadline)
                        : try handedOver(connection, deadline: deadline)
        } catch let failure as ClientConnection.Failure {
            if failure.timedOut { return .noAnswer(failure.description) }
            throw .unreachable("\(target): \(failure.description)")
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .unreachable("\(target): \(error)")
        }
    }

    private func handshake(_ connection: ClientConnection, deadline: UInt64) throws {
        var hello = Protos_HelloMessage()
        hello.peerEndpoint.id.name = name
        hello.peerEndpoint.address = "127.0.0.1:1"      // never dialed back: NON_VALIDATOR peers are not
        hello.peerEndpoint.type = .nonValidator
        let body: [UInt8] = try hello.serializedBytes()
        try connection.send(Message(type: .discHello, payload: body), deadline: deadline)
        while true {
            let message = try connection.receive(deadline: deadline)
            switch message.type {
            case .discHello: return
            case .discDisconnect: throw Failure.unreachable("\(target) refused the connection: \(String(decoding: message.payload, as: UTF8.self))")
            default: continue
            }
        }
    }

    /// The RESPONSE for `txid`: SUCCESS carries the txid, FAILURE `<txid>: <reason>`.
    private func answer(to txid: String, on connection: ClientConnection, deadline: UInt64) throws -> TransactionOutcome {
        while true {
            let message = try connection.receive(deadline: deadline)
            if message.type == .discDisconnect {
                throw Failure.unreachable("\(target) disconnected: \(String(decoding: message.payload, as: UTF8.self))")
            }
            guard message.type == .response, let response = try? Protos_Response(serializedBytes: message.payload) else { continue }
            let text = String(decoding: response.msg, as: UTF8.self)
            if response.status == .success, text == txid { return .committed }
            if response.status == .failure {
                if text.hasPrefix(txid + ": ") { return .refused(reason: String(text.dropFirst(txid.count + 2))) }
                if !text.contains(": ") { return .refused(reason: text) }     // a bare reason names no txid: ours is the only one
            }
        }
    }

    /// Half-closes and waits for the peer to close in turn: it has then read
    /// (and handed on) everything before our end of stream.
    private func handedOver(_ connection: ClientConnection, deadline: UInt64) throws -> TransactionOutcome {
        connection.finishSending()
        while true {
            do { _ = try connection.receive(deadline: deadline) } catch let failure as ClientConnection.Failure {
                if failure.timedOut { throw failure }
                return .submitted
            }
        }
    }
}
