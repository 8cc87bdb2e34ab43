import Foundation

/// Signed VIEW-CHANGEs when TLS is on (PROTOCOL.md section 8), in the
/// adapter, so `PBFTReplica` stays free of crypto:
/// - on the way out, `seal` signs this replica's own VIEW-CHANGEs, alone or
///   inside its NEW-VIEW's vset, over `signedBytes` (the view_change with
///   `signature` and `certificate` empty), and puts what its keys carry (TLS:
///   this peer's certificate) in `certificate`;
/// - on the way in, `check` verifies a VIEW-CHANGE, and every one a NEW-VIEW
///   relays, with the key of the replica its `replica_id` names.
/// Whose keys: `ViewChangeKeys` (TLS in a validator, the simulator's own in `weft sim`).
///
/// Fan queue only.
final class PBFTSignatures {
    private let keys: ViewChangeKeys
    private let selfReplica: UInt64
    /// VIEW-CHANGE signatures found good so far (direct and relayed).
    private(set) var verified = 0

    init(keys: ViewChangeKeys, selfReplica: UInt64) {
        self.keys = keys
        self.selfReplica = selfReplica
    }

    /// With this peer's TLS keys. `trust`: its TLS context (its certificate, key and root CA: what its links use).
    convenience init?(signer: MessageSigner, trust: TLSContext, selfReplica: UInt64, replicaNames: [String]) {
        guard let keys = TLSViewChangeKeys(signer: signer, trust: trust, selfReplica: selfReplica, replicaNames: replicaNames)
        else { return nil }
        self.init(keys: keys, selfReplica: selfReplica)
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
    func sign(_ bytes: [UInt8]) -> [UInt8]? { keys.sign(bytes) }

    func sign(_ vc: Pbft_view_change) -> Pbft_view_change {
        var signed = vc
        signed.signature = Data(keys.sign(Self.signedBytes(vc)) ?? [])
        signed.certificate = Data(keys.carried)
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
        if let why = keys.problem(verifying: Array(vc.signature), over: Self.signedBytes(vc), claimedBy: vc, peers: peers) {
            return why
        }
        verified += 1
        return nil
    }
}
