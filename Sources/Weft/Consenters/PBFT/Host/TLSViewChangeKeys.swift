/// VIEW-CHANGE keys from TLS (PROTOCOL.md section 8): this peer's TLS private
/// key signs, and its certificate is carried. A VIEW-CHANGE claiming replica r
/// is checked with the certificate it carries, once that chains to
/// `peer.tls.rootcert.file` and names r (`TLSContext.verifier(forCarried:naming:)`);
/// one without a certificate, against the certificate r presented on its TLS
/// link (`PeerInfo.certificate`; its name is bound to it) or the last one seen.
/// So a NEW-VIEW is checked whatever links this process has seen since it
/// started (issue 21: a restarted replica refused a correct NEW-VIEW relaying a
/// replica it had never been connected to).
///
/// Fan queue only.
final class TLSViewChangeKeys: ViewChangeKeys {
    private let signer: MessageSigner
    private let trust: TLSContext
    private let selfReplica: UInt64
    private let replicaNames: [String]
    private let ownKey: SignatureVerifier
    let carried: [UInt8]
    /// Per replica name: the certificate last verified for it (carried or from its link) and its key.
    private var keys: [String: (certificate: [UInt8], key: SignatureVerifier)] = [:]

    /// `trust`: this peer's TLS context (its certificate, key and root CA: what its links use).
    init?(signer: MessageSigner, trust: TLSContext, selfReplica: UInt64, replicaNames: [String]) {
        guard let own = trust.ownCertificateDER, let ownKey = SignatureVerifier(certificateDER: own) else { return nil }
        self.signer = signer
        self.trust = trust
        carried = own
        self.ownKey = ownKey
        self.selfReplica = selfReplica
        self.replicaNames = replicaNames
    }

    func sign(_ bytes: [UInt8]) -> [UInt8]? { signer.sign(bytes) }

    func problem(verifying signature: [UInt8], over bytes: [UInt8], claimedBy vc: Pbft_view_change,
                 peers: [PeerInfo]) -> String? {
        switch key(of: vc, peers) {
        case .success(let key): return key.verify(signature, over: bytes) ? nil : "bad signature"
        case .failure(let why): return why.description
        }
    }

    private func key(of vc: Pbft_view_change, _ peers: [PeerInfo]) -> Result<SignatureVerifier, TLSFailure> {
        if vc.replicaID == selfReplica { return .success(ownKey) }
        guard vc.replicaID < UInt64(replicaNames.count) else { return .failure(TLSFailure("no such replica")) }
        let name = replicaNames[Int(vc.replicaID)]
        if !vc.certificate.isEmpty { return carriedKey(Array(vc.certificate), of: name) }
        if let certificate = peers.first(where: { $0.name == name })?.certificate, keys[name]?.certificate != certificate,
           let key = SignatureVerifier(certificateDER: certificate) {
            keys[name] = (certificate, key)   // verified by the handshake, named by the hello
        }
        return keys[name].map { .success($0.key) } ?? .failure(TLSFailure("no certificate of \(name) carried or seen yet"))
    }

    /// The key of a carried certificate: the cached one if it is the certificate last
    /// verified for `name`, else verified now (and cached when good).
    private func carriedKey(_ certificate: [UInt8], of name: String) -> Result<SignatureVerifier, TLSFailure> {
        if let cached = keys[name], cached.certificate == certificate { return .success(cached.key) }
        switch trust.verifier(forCarried: certificate, naming: name) {
        case .success(let key):
            keys[name] = (certificate, key)
            return .success(key)
        case .failure(let why):
            return .failure(TLSFailure("its certificate \(why)"))
        }
    }
}
