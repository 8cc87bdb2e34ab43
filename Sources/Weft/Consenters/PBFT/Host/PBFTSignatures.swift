import Foundation

/// Signed VIEW-CHANGEs when TLS is on (PROTOCOL.md section 8), in the
/// adapter, so `PBFTReplica` stays free of crypto:
/// - on the way out, `seal` signs this replica's own VIEW-CHANGEs, alone or
///   inside its NEW-VIEW's vset, with the peer's TLS private key, over
///   `PBFTEncoding.bytes` of the view_change with `signature` empty;
/// - on the way in, `check` verifies a VIEW-CHANGE, and every one a NEW-VIEW
///   relays, against the certificate of the replica whose `replica_id` it
///   carries: the certificate that replica presented in the TLS handshake of
///   its link (`PeerInfo.certificate`; its name is bound to it), the last one
///   seen when it is not connected now, this peer's own for its own.
///
/// Fan queue only.
final class PBFTSignatures {
    private let signer: MessageSigner
    private let selfReplica: UInt64
    private let replicaNames: [String]
    private let ownKey: SignatureVerifier
    /// Per replica name: the certificate last seen on its link and its key.
    private var keys: [String: (certificate: [UInt8], key: SignatureVerifier)] = [:]
    /// VIEW-CHANGE signatures found good so far (direct and relayed).
    private(set) var verified = 0

    init(signer: MessageSigner, ownKey: SignatureVerifier, selfReplica: UInt64, replicaNames: [String]) {
        self.signer = signer
        self.ownKey = ownKey
        self.selfReplica = selfReplica
        self.replicaNames = replicaNames
    }

    /// The bytes a VIEW-CHANGE's signature covers.
    static func signedBytes(_ vc: Pbft_view_change) -> [UInt8] {
        var unsigned = vc
        unsigned.signature = Data()
        return PBFTEncoding.bytes(unsigned)
    }

    /// A signature over `bytes` with this peer's key.
    func sign(_ bytes: [UInt8]) -> [UInt8]? { signer.sign(bytes) }

    func sign(_ vc: Pbft_view_change) -> Pbft_view_change {
        var signed = vc
        signed.signature = Data(signer.sign(Self.signedBytes(vc)) ?? [])
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
        guard let key = key(of: vc.replicaID, peers) else {
            return vc.replicaID < UInt64(replicaNames.count) ? "no certificate of \(replicaNames[Int(vc.replicaID)]) seen yet" : "no such replica"
        }
        guard key.verify(Array(vc.signature), over: Self.signedBytes(vc)) else { return "bad signature" }
        verified += 1
        return nil
    }

    private func key(of replica: UInt64, _ peers: [PeerInfo]) -> SignatureVerifier? {
        if replica == selfReplica { return ownKey }
        guard replica < UInt64(replicaNames.count) else { return nil }
        let name = replicaNames[Int(replica)]
        if let certificate = peers.first(where: { $0.name == name })?.certificate, keys[name]?.certificate != certificate,
           let key = SignatureVerifier(certificateDER: certificate) {
            keys[name] = (certificate, key)
        }
        return keys[name]?.key
    }
}
