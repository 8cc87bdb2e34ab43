import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// A client connection that sends transactions and collects the answers.
final class PBFTClient {
    struct Outcome {
        var succeeded: [String] = []
        var failures: [String: String] = [:]
    }
    private let client: WireClient

    func write(_ bytes: [UInt8]) throws { try client.write(bytes) }

    /// With `tls`, the connection is TLS first (then `name` must match its certificate, as `c-1.load.weft`).
    init(_ target: HostPort, name: String, tls: TLSContext? = nil) throws {
        guard let tls else {
            client = try WireClient.handshaken(target, name: name, timeoutSeconds: 2).0
            return
        }
        client = try WireClient(target, timeoutSeconds: 2)
        try client.secure(tls)
        try client.write(WireClient.hello(name: name))
        let reply = try client.readMessage()
        guard reply.type == .discHello else { throw TestFailure("expected DISC_HELLO over TLS, got \(reply.type)") }
    }

    func send(_ txids: [String]) throws {
        try client.write(txids.flatMap { txid -> [UInt8] in
            var tx = Protos_Transaction()
            tx.type = .chaincodeInvoke
            tx.txid = txid
            tx.payload = Data(txid.utf8)
            return WireClient.frame(type: .chainTransaction, payload: try! tx.serializedBytes())
        })
    }

    /// Sends, then waits for an answer to each (or the timeout).
    func submit(_ txids: [String], timeout: Double) throws -> Outcome {
        try send(txids)
        return try collect(expected: txids.count, timeout: timeout)
    }

    /// Reads answers until `expected` came or `timeout` passed (read timeouts are not errors).
    func collect(expected: Int, timeout: Double) throws -> Outcome {
        var outcome = Outcome()
        let deadline = Date().addingTimeInterval(timeout)
        while outcome.succeeded.count + outcome.failures.count < expected && Date() < deadline {
            var wait = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            guard let message = try? client.readMessage() else { continue }
            guard message.type == .response else { continue }
            let response = try Protos_Response(serializedBytes: message.payload)
            let text = String(decoding: response.msg, as: UTF8.self)
            if response.status == .success {
                outcome.succeeded.append(text)
            } else {
                outcome.failures[String(text.prefix { $0 != ":" }), default: ""] = text
            }
        }
        return outcome
    }
}
