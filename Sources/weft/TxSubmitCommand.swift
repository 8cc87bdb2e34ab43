import ArgumentParser
import Foundation
import Glibc
import Weft

struct TxSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit one transaction to a peer and print its txid.",
        discussion: """
        Connects to --target as a NON_VALIDATOR peer (DISC_HELLO first) and sends one \
        CHAIN_TRANSACTION (CHAINCODE_INVOKE) carrying the payload: --payload TEXT, \
        --payload-file FILE, or --payload-file - for standard input (empty by default). \
        The txid is --txid, else a new UUID. Prints the txid once the peer has read the \
        transaction; with --wait, once the validator answered, and the outcome \
        (--json: one JSON object with txid and status). \
        Exit status: 0 committed (or, without --wait, handed to the peer); 1 refused \
        (RESPONSE FAILURE: the reason is printed, e.g. duplicate txid) or the peer \
        unreachable; 3 no answer within --timeout; 2 usage. TLS as `weft load`: \
        --tls-cert/--tls-key/--tls-root-cert, the hello name tx-<random>.<--id-domain> \
        (the certificate must carry it, e.g. a wildcard *.<domain>).
        """)

    @Option(help: "The peer's client port, host:port.") var target: String
    @Option(help: "The transaction id (default: a new UUID).") var txid: String?
    @Option(help: "The payload, as text.") var payload: String?
    @Option(name: .customLong("payload-file"), help: "Read the payload from this file ('-' = standard input).") var payloadFile: String?
    @Flag(help: "Wait for the validator's answer (committed or refused).") var wait = false
    @Option(help: "How long to wait at most, e.g. 10s, 500ms.") var timeout = "10s"
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @Option(name: .customLong("tls-cert"), help: "TLS 1.3 with this client certificate (PEM); needs --tls-key and --tls-root-cert.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("tls-root-cert"), help: "PEM CA the peer's certificate must chain to.") var tlsRootCert: String?
    @Option(name: .customLong("id-domain"), help: "The hello name is tx-<random>.<domain> (a wildcard certificate *.<domain> covers it).") var idDomain = ""

    func validate() throws {
        guard HostPort(target) != nil else { throw ValidationError("--target: '\(target)' is not host:port") }
        if let txid { guard !txid.isEmpty, txid.utf8.count <= 256 else { throw ValidationError("--txid must be 1 to 256 bytes") } }
        guard payload == nil || payloadFile == nil else { throw ValidationError("give --payload or --payload-file, not both") }
        _ = try timeoutNanos()
        let tlsFlags = [tlsCert, tlsKey, tlsRootCert].compactMap { $0 }.count
        guard tlsFlags == 0 || tlsFlags == 3 else { throw ValidationError("TLS needs all three of --tls-cert, --tls-key and --tls-root-cert") }
    }

    private func timeoutNanos() throws -> UInt64 {
        do { return try ConfigLoader.parseDuration(timeout, key: "--timeout", range: 1_000_000...3_600_000_000_000) } catch {
            throw ValidationError("--timeout: \(error.reason)")
        }
    }

    private func payloadBytes() throws -> [UInt8] {
        if let payload { return Array(payload.utf8) }
        guard let payloadFile else { return [] }
        if payloadFile == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: payloadFile) else {
            let reason = FileManager.default.fileExists(atPath: payloadFile) ? "cannot be read" : "does not exist"
            throw ValidationError("--payload-file: '\(payloadFile)' \(reason)")
        }
        return Array(data)
    }

    func run() throws {
        let txid = self.txid ?? TransactionClient.newTxid()
        let name = "tx-\(TransactionClient.newTxid().prefix(8))" + (idDomain.isEmpty ? "" : ".\(idDomain)")
        var client = TransactionClient(target: HostPort(target)!, name: name)
        if let tlsCert, let tlsKey, let tlsRootCert {
            do {
                client = try TransactionClient(target: client.target, name: name,
                                               tls: PeerConfig.TLS(certFile: tlsCert, keyFile: tlsKey, rootCertFile: tlsRootCert))
            } catch {
                let flags = ["peer.tls.cert.file": "--tls-cert", "peer.tls.key.file": "--tls-key", "peer.tls.rootcert.file": "--tls-root-cert"]
                throw ValidationError("\(flags[error.key] ?? error.key): \(error.reason)")
            }
        }
        let transaction = TransactionClient.transaction(txid: txid, payload: try payloadBytes())
        let outcome: TransactionOutcome
        do {
            outcome = try client.submit(transaction, wait: wait, timeoutNanos: try timeoutNanos())
        } catch {
            report(txid: txid, status: "unreachable", detail: "\(error)")
            throw ExitCode(1)
        }
        switch outcome {
        case .committed, .submitted:
            report(txid: txid, status: outcome.status, detail: nil)
        case .refused(let reason):
            report(txid: txid, status: outcome.status, detail: reason)
            throw ExitCode(1)
        case .noAnswer(let why):
            report(txid: txid, status: outcome.status, detail: "no answer within \(timeout) (\(why))")
            throw ExitCode(3)
        }
    }

    /// The txid and outcome on stdout (text or one JSON object); a failure's detail on stderr too.
    private func report(txid: String, status: String, detail: String?) {
        if json {
            var object: [String: String] = ["txid": txid, "status": status]
            if let detail { object["error"] = detail }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(wait || detail != nil ? "\(txid) \(status)" : txid)
        }
        if let detail { FileHandle.standardError.write(Data("weft tx submit: \(txid): \(status): \(detail)\n".utf8)) }
    }
}
