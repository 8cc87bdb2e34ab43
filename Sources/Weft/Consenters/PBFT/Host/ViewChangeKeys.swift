/// The keys behind `PBFTSignatures`: the one that signs this replica's
/// VIEW-CHANGEs, and the one that checks a VIEW-CHANGE claiming replica r.
/// A validator uses its TLS key and certificates (`TLSViewChangeKeys`); the
/// whole-host simulator an ideal signature of its own (`SimViewChangeKeys`),
/// so it runs the same sealing and checking as a TLS cluster.
///
/// Fan queue only.
protocol ViewChangeKeys: AnyObject {
    /// What a sealed VIEW-CHANGE carries in `certificate`: the key to check it
    /// with, for a replica that has not seen the signer's link (empty: none).
    var carried: [UInt8] { get }
    /// A signature over `bytes` with this replica's key.
    func sign(_ bytes: [UInt8]) -> [UInt8]?
    /// Nil when `signature` over `bytes` is the one `vc.replicaID`'s key makes; else why not.
    /// `peers`: the validators connected now (TLS: their links' certificates).
    func problem(verifying signature: [UInt8], over bytes: [UInt8], claimedBy vc: Pbft_view_change,
                 peers: [PeerInfo]) -> String?
}
