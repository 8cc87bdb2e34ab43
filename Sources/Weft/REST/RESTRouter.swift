import Foundation

/// The REST API's routes (Fabric v0.6's `core/rest`): which request goes
/// where, and what each answers. Runs on a connection's thread; ledger reads
/// go through the reader thread's queue, peers through the reactor's task
/// queue, submissions through the peer's own client port.
struct RESTRouter: Sendable {
    let reads: LedgerReadQueue
    /// The established peers as `/network/peers` lists them; nil if the reactor did not answer in time.
    let peers: @Sendable () -> [[String: Any]]?
    /// The peer's own client port, or why POST /transactions cannot use it.
    let clientPort: Result<HostPort, RESTUnavailable>
    /// The DISC_HELLO names of the REST server's connections: `<prefix>-<random>`, one each.
    let clientNamePrefix: String
    /// How long a read may wait for the reader thread, and POST ?wait=true for its answer (by default).
    let readTimeoutNanos: UInt64 = 10_000_000_000
    let submitTimeoutNanos: UInt64 = 30_000_000_000

    func route(_ request: RESTRequest) -> RESTResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (segments.first, segments.count) {
        case ("chain", 1):
            return only("GET", request) { chainInfo() }
        case ("chain", 3) where segments[1] == "blocks":
            return only("GET", request) { block(segments[2]) }
        case ("transactions", 2):
            return only("GET", request) { transaction(segments[1]) }
        case ("transactions", 1):
            return only("POST", request) { submit(request) }
        case ("network", 2) where segments[1] == "peers":
            return only("GET", request) { networkPeers() }
        default:
            return .error(404, "Openchain endpoint not found.")      // Fabric v0.6's words
        }
    }

    private func only(_ method: String, _ request: RESTRequest, _ answer: () -> RESTResponse) -> RESTResponse {
        guard request.method == method else {
            var refused = RESTResponse.error(405, "\(request.path) takes \(method), not \(request.method)")
            refused.allow = method
            return refused
        }
        return answer()
    }

    // MARK: reads

    private func chainInfo() -> RESTResponse {
        read { RESTResponse(status: 200, json: LedgerJSON.chainInfo(try $0.chainInfo())) }
    }

    private func block(_ text: String) -> RESTResponse {
        guard let number = UInt64(text) else { return .error(400, "Block id must be an integer (uint64).") }
        return read { reader in
            guard let block = try reader.block(number) else { return .error(404, "Block \(number) is past the height of the chain.") }
            return RESTResponse(status: 200, json: LedgerJSON.block(block))
        }
    }

    private func transaction(_ txid: String) -> RESTResponse {
        read { reader in
            guard let found = try reader.transaction(txid: txid) else { return .error(404, "Transaction \(txid) is not found.") }
            return RESTResponse(status: 200, json: ["transaction": LedgerJSON.transaction(found.transaction), "blockNumber": found.blockNumber])
        }
    }

    private func read(_ work: @escaping (LedgerReader) throws -> RESTResponse) -> RESTResponse {
        switch reads.read(timeoutNanos: readTimeoutNanos, work) {
        case .answered(let response): return response
        case .full: return .error(503, "too many ledger reads waiting; try again")
        case .timedOut: return .error(504, "the ledger read did not finish in time")
        }
    }

    private func networkPeers() -> RESTResponse {
        guard let list = peers() else { return .error(503, "the peer did not list its connections in time") }
        return RESTResponse(status: 200, json: ["peers": list])
    }

    // MARK: submission

    /// POST /transactions: the body is the payload; `?txid=` (else a UUID),
    /// `?wait=true` for the validator's answer, `?timeout=` for how long.
    private func submit(_ request: RESTRequest) -> RESTResponse {
        let client: TransactionClient
        switch clientPort {
        case .success(let port):
            // Plain TCP: on a TLS peer the port is RESTUnavailable.
            client = TransactionClient(target: port, name: "\(clientNamePrefix)-\(TransactionClient.newTxid().prefix(8))")
        case .failure(let why): return .error(503, why.reason)
        }
        let txid = request.query["txid"] ?? TransactionClient.newTxid()
        guard !txid.isEmpty, txid.utf8.count <= 256 else { return .error(400, "txid must be 1 to 256 bytes") }
        let wait: Bool
        switch request.query["wait"]?.lowercased() {
        case nil, "false", "0": wait = false
        case "true", "1", "": wait = true
        case let other?: return .error(400, "wait must be true or false, not '\(other)'")
        }
        var timeout = submitTimeoutNanos
        if let text = request.query["timeout"] {
            do { timeout = try ConfigLoader.parseDuration(text, key: "timeout", range: 1_000_000...300_000_000_000) } catch {
                return .error(400, "timeout: \(error.reason)")
            }
        }
        let outcome: TransactionOutcome
        do {
            outcome = try client.submit(TransactionClient.transaction(txid: txid, payload: request.body), wait: wait, timeoutNanos: timeout)
        } catch {
            return .error(503, "cannot submit through the peer's client port: \(error)")
        }
        var answer: [String: Any] = ["txid": txid, "status": outcome.status]
        switch outcome {
        case .committed, .submitted:
            return RESTResponse(status: 200, json: answer)
        case .refused(let reason):
            answer["Error"] = reason
            return RESTResponse(status: 400, json: answer)
        case .noAnswer(let why):
            answer["Error"] = "no answer from the validator in time (\(why))"
            return RESTResponse(status: 504, json: answer)
        }
    }
}
