import Foundation
import XCTest
@testable import Weft

/// Castro and Liskov's NEW-VIEW chooses the null request for n only when a
/// quorum of VIEW-CHANGEs have h < n and no P entry for n (issue 21's open
/// question: "m.h < n" was missing, as in Fabric). A VIEW-CHANGE with h >= n
/// has no P entry for n because it collected it, not because n never prepared.
final class PBFTNullRequestConditionTests: XCTestCase {
    private func pq(_ n: UInt64, _ d: String, _ v: UInt64 = 0) -> Pbft_view_change.PQ {
        var e = Pbft_view_change.PQ()
        e.sequenceNumber = n
        e.batchDigest = d
        e.view = v
        return e
    }

    private func vc(h: UInt64, replica: UInt64, p: [Pbft_view_change.PQ] = [], q: [Pbft_view_change.PQ] = []) -> Pbft_view_change {
        var m = Pbft_view_change()
        m.view = 1
        m.h = h
        m.replicaID = replica
        var c = Pbft_view_change.C()
        c.sequenceNumber = h
        c.id = "c\(h)"
        m.cset = [c]
        m.pset = p
        m.qset = q
        return m
    }

    /// N=5, f=1 (quorum 4), a vset of all five: 0 has collected up to 20, 1 prepared
    /// D at 15 (and alone holds it in Q), 2, 3, 4 have nothing for 15. Only three
    /// VIEW-CHANGEs have h < 15 and no entry: 15 must not become a null request.
    func testNullNeedsAQuorumWithLowWatermarksBelowN() {
        let vset = [vc(h: 20, replica: 0), vc(h: 10, replica: 1, p: [pq(15, "D")], q: [pq(15, "D")]),
                    vc(h: 10, replica: 2), vc(h: 10, replica: 3), vc(h: 10, replica: 4)]
        let x = ViewChangeRules.assignSequenceNumbers(vset, h: 10, logSize: 40, f: 1, quorum: 4)
        XCTAssertNil(x, "not decided yet: got \(String(describing: x))")
        // With one more VIEW-CHANGE below 15 without an entry, the null request is sound.
        let more = vset.map { $0.replicaID == 0 ? vc(h: 10, replica: 0) : $0 }
        // (Nulls above the last digest assigned are left out: one null at h+1.)
        XCTAssertEqual(ViewChangeRules.assignSequenceNumbers(more, h: 10, logSize: 40, f: 1, quorum: 4), [11: ""])
    }

    /// Whole networks with N > 3f+1 (N=5, f=1 and N=7, f=2), drops, duplication,
    /// a crashed replica and view changes whose vsets hold more than N-f
    /// VIEW-CHANGEs: every pair of replicas agrees, over many seeds.
    func testAgreementWithLargeVsetsOverSeeds() {
        var largeVsets = 0
        for (n, f) in [(5, 1), (7, 2)] {
            for seed in UInt64(1)...20 {
                let net = run(n: n, f: f, seed: seed)
                XCTAssertNil(net.agreementProblem(), "N=\(n) seed \(seed)")
                largeVsets += net.newViewsSent.joined().filter { $0.vset.count > n - f }.count
            }
        }
        XCTAssertGreaterThan(largeVsets, 0, "some NEW-VIEW carried more than N-f VIEW-CHANGEs")
    }

    private func run(n: Int, f: Int, seed: UInt64) -> SimulatedNetwork {
        var choice = SplitMix64(seed: seed &* 31)
        let o = PBFTOptions(n: n, f: f, k: 5, logMultiplier: 2, batchSize: 1 + choice.below(3), batchTimeoutTicks: 1,
                            requestTimeoutTicks: 20 + choice.below(10), viewChangeTimeoutTicks: 20, resendViewChangeTicks: 8)
        let net = SimulatedNetwork(options: o, seed: seed)
        net.dropProbability = 0.03
        net.duplicateProbability = 0.05
        net.asyncExecution = seed % 2 == 1
        for t in 0..<40 {
            net.submit("tx\(t)", at: choice.below(n))
            net.run(steps: choice.below(30))
            if t == 10 { net.isolated = [UInt64(choice.below(n))] }
            if t == 25 { net.isolated = [] }
        }
        net.dropProbability = 0
        net.runUntilQuiet(maxSteps: 20_000)
        return net
    }
}
