/// Who may use the operations listener (`operations.tls.*`): its TLS context,
/// and which requests need a verified client certificate. Without
/// `clientAuthRequired` every request is answered; with it, `PUT /logspec`
/// always needs one, and the GETs too unless `openReads`. A missing or
/// refused certificate costs only that request: 403, with the reason.
struct OperationsAccess {
    let tls: TLSContext?
    let clientAuthRequired: Bool
    let openReads: Bool

    static let keys = TLSContext.Keys(enabled: "operations.tls.enabled", cert: "operations.tls.cert.file",
                                      key: "operations.tls.key.file", trusted: "operations.tls.clientRootCAs.files")

    init(_ config: PeerConfig.OperationsTLS) throws(ConfigError) {
        clientAuthRequired = config.enabled && config.clientAuthRequired
        openReads = config.openReads
        guard config.enabled else { tls = nil; return }
        // The client CAs are loaded only to check clients; the server's own
        // certificate need not chain to them.
        tls = try TLSContext(certFile: config.certFile, keyFile: config.keyFile,
                             trustedFiles: clientAuthRequired ? config.clientRootCAFiles : [], keys: OperationsAccess.keys,
                             clientAuthRequired: false, judgesClientCertificateLater: clientAuthRequired)
    }

    /// nil when the request may go on; else the 403 answer.
    func refusal(method: String, route: String, certificate: TLSSession.CertificateVerdict) -> OperationsServer.Answer? {
        guard clientAuthRequired, certificate != .verified else { return nil }
        if method == "GET" && openReads { return nil }
        var why = "\(method) \(route) needs a client certificate issued by a CA in operations.tls.clientRootCAs.files"
        switch certificate {
        case .none: why += "; none was presented"
        case .refused(let reason): why += "; the one presented was refused: \(reason)"
        case .verified: break
        }
        return ("403 Forbidden", "application/json", OperationsJSON.encode(["error": why]))
    }
}
