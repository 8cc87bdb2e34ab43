extension PBFTOptions {
    /// The replica's options from `pbft.*`, durations in ticks of `PBFTConsenter.tickNanos`; refuses N < 3f+1 and the like.
    init(_ settings: PeerConfig.PBFT) throws(ConfigError) {
        func ticks(_ nanos: UInt64) -> Int { nanos == 0 ? 0 : Int(max(1, (nanos + PBFTConsenter.tickNanos - 1) / PBFTConsenter.tickNanos)) }
        self.init(n: settings.n, f: settings.f, k: UInt64(settings.k), logMultiplier: UInt64(settings.logMultiplier),
                  batchSize: settings.batchSize, batchTimeoutTicks: ticks(settings.batchTimeoutNanos),
                  requestTimeoutTicks: ticks(settings.requestTimeoutNanos), viewChangeTimeoutTicks: ticks(settings.viewChangeTimeoutNanos),
                  resendViewChangeTicks: ticks(settings.resendViewChangeNanos), nullRequestTicks: ticks(settings.nullRequestNanos))
        do { try validate() } catch {
            // "pbft.general.N must be >= 3f+1 ...": the key first, then why.
            let text = "\(error)"
            let key = text.prefix { $0 != " " }
            throw ConfigError(key: String(key), reason: String(text.dropFirst(key.count + 1)))
        }
    }
}
