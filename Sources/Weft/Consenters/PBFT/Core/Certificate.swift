struct Certificate {
    var prePrepare: Pbft_pre_prepare?
    /// replica -> digest it prepared / committed (first message wins).
    var prepares: [UInt64: String] = [:]
    var commits: [UInt64: String] = [:]
    var sentPrepare = false
    var sentCommit = false

    var digest: String? { prePrepare?.batchDigest }

    func prepareCount(for digest: String, excluding primary: UInt64) -> Int {
        var n = 0
        for (replica, d) in prepares where replica != primary && d == digest { n += 1 }  // a count: order-free
        return n
    }

    func commitCount(for digest: String) -> Int {
        var n = 0
        for (_, d) in commits where d == digest { n += 1 }
        return n
    }
}
