import Foundation

/// Signed VIEW-CHANGEs when TLS is on (PROTOCOL.md section 8), in the
/// adapter, so `PBFTReplica` stays free of crypto:
/// - on the way out, `seal` signs this replica's own VIEW-CHANGEs, alone or
///   inside its NEW-VIEW's vset, with the peer's TLS private key, over
///   `signedBytes` (the view_change with `signature` and `certificate` empty),
///   and puts this peer's TLS certificate in `certificate`;
/// - on the way in, `check` verifies a VIEW-CHANGE, and every one a NEW-VIEW
///   relays, with the key of the replica its `replica_id` names: the
///   certificate the VIEW-CHANGE carries, once it chains to
///   `peer.tls.rootcert.file` and names that replica (`TLSContext.verifier(forCarried:naming:)`);
///   one without a certificate, against the certificate that replica presented
///   on its TLS link (`PeerInfo.certificate`; its name is bound to it) or the
///   last one seen. So a NEW-VIEW is checked whatever links this process has
///   seen since it started (issue 21: a restarted replica refused a correct
///   NEW-VIEW relaying a replica it had never been connected to).
///
/// Fan queue only.
final class PBFTSignatures {
    private let signer: MessageSigner
    private let trust: TLSContext
    private let selfReplica: UInt64
    private let replicaNames: [String]
    private let ownCertificate: [UInt8]
    private let ownKey: SignatureVerifier
    /// Per replica name: the certificate last verified for it (carried or from its link) and its key.
    private var keys: [String: (certificate: [UInt8], key: SignatureVerifier)] = [:]
    /// VIEW-CHANGE signatures found good so far (direct and relayed).
    private(set) var verified = 0

    /// `trust`: this peer's TLS context (its certificate, key and root CA: what its links use).
    init?(signer: MessageSigner, trust: TLSContext, selfReplica: UInt64, replicaNames: [String]) {
        guard let own = trust.ownCertificateDER, let ownKey = SignatureVerifier(certificateDER: own) else { return nil }
        self.signer = signer
        self.trust = trust
        ownCertificate = own
        self.ownKey = ownKey
        self.selfReplica = selfReplica
        self.replicaNames = replicaNames
    }

    /// The bytes a VIEW-CHANGE's signature covers: not the signature, nor the
    /// certificate (the key to check it with, proven by the CA, not a claim of the
    /// signer's; a relay that strips or swaps it can only make the check fail).
    static func signedBytes(_ vc: Pbft_view_change) -> [UInt8] {
        var unsigned = vc
        unsigned.signature = Data()
        unsigned.certificate = Data()
        return PBFTEncoding.bytes(unsigned)
    }

    /// A signature over `bytes` with this peer's key.
    func sign(_ bytes: [UInt8]) -> [UInt8]? { signer.sign(bytes) }

    func sign(_ vc: Pbft_view_change) -> Pbft_view_change {
        var signed = vc
        signed.signature = Data(signer.sign(Self.signedBytes(vc)) ?? [])
        signed.certificate = Data(ownCertificate)
        return signed
    }

    /// Signs this replica's own unsigned VIEW-CHANGEs in `message` (nothing else changes).
    func seal(_ message: Pbft_message) -> Pbft_message {
        switch message.payload {
        case .viewChange(let vc) where vc.replicaID == selfReplica && vc.signature.isEmpty:
            var out = Pbft_message()
            out.viewChange = sign(vc)
            return out
        case .newView(var nv) where nv.vset.contains { $0.replicaID == selfReplica && $0.signature.isEmpty }:
            nv.vset = nv.vset.map { $0.replicaID == selfReplica && $0.signature.isEmpty ? sign($0) : $0 }
            var out = Pbft_message()
            out.newView = nv
            return out
        default:
            return message
        }
    }

    /// Nil when `message` may go to the replica; else why it is forged.
    /// `peers` is asked once per VIEW-CHANGE or NEW-VIEW, never for other messages.
    func check(_ message: Pbft_message, peers: () -> [PeerInfo]) -> String? {
        switch message.payload {
        case .viewChange(let vc):
            return problem(vc, peers()).map { "VIEW-CHANGE for view \(vc.view) claiming replica \(vc.replicaID): \($0)" }
        case .newView(let nv):
            let connected = peers()
            for vc in nv.vset {
                if let why = problem(vc, connected) {
                    return "NEW-VIEW for view \(nv.view) relays a VIEW-CHANGE claiming replica \(vc.replicaID): \(why)"
                }
            }
            return nil
        default:
            return nil
        }
    }

    private func problem(_ vc: Pbft_view_change, _ peers: [PeerInfo]) -> String? {
        guard !vc.signature.isEmpty else { return "unsigned" }
        let key: SignatureVerifier
        switch self.key(of: vc, peers) {
        case .success(let found): key = found
        case .failure(let why): return why.description
        }
        guard key.verify(Array(vc.signature), over: Self.signedBytes(vc)) else { return "bad signature" }
        verified += 1
        return nil
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
