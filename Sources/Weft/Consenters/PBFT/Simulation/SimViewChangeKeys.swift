/// The simulator's VIEW-CHANGE keys: an ideal signature, so a seed runs the
/// sealing and checking a TLS cluster runs (`PBFTSignatures`) without
/// certificates. Replica r's signature over b is SHA-256(secret r ‖ b); each
/// host signs with its own secret only, and the byzantine replica's lies can
/// only replay what others signed or sign as itself, as with real keys.
final class SimViewChangeKeys: ViewChangeKeys {
    private let secrets: [[UInt8]]
    private let selfReplica: Int
    let carried: [UInt8] = []

    init(secrets: [[UInt8]], selfReplica: Int) {
        self.secrets = secrets
        self.selfReplica = selfReplica
    }

    /// One secret per replica, drawn from the seed (and nothing else of it).
    static func secrets(seed: UInt64, replicas: Int) -> [[UInt8]] {
        (0..<replicas).map { SHA256.hash(Array("weft sim key \(seed) \($0)".utf8)) }
    }

    func sign(_ bytes: [UInt8]) -> [UInt8]? { Self.signature(secrets[selfReplica], bytes) }

    func problem(verifying signature: [UInt8], over bytes: [UInt8], claimedBy vc: Pbft_view_change,
                 peers: [PeerInfo]) -> String? {
        guard vc.replicaID < UInt64(secrets.count) else { return "no such replica" }
        return signature == Self.signature(secrets[Int(vc.replicaID)], bytes) ? nil : "bad signature"
    }

    private static func signature(_ secret: [UInt8], _ bytes: [UInt8]) -> [UInt8] { SHA256.hash(secret + bytes) }
}
