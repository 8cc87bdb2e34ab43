extension PBFTReplica {
    /// Everything the replica asked for since the last call, sorted into a `PBFTReady`.
    func takeReady() -> PBFTReady { PBFTReady(takeActions()) }
}
