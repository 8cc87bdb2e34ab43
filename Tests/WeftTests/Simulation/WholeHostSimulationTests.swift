import Foundation
import XCTest
@testable import Weft

/// The whole-host simulator on a fixed set of seeds (faults, crashes, power
/// losses, a byzantine replica among them), and its determinism. The long
/// sweep is `scripts/faults/sim-sweep.sh --seeds A-B`.
final class WholeHostSimulationTests: XCTestCase {
    /// Seeds that hold every property on today's code, chosen to cover crashes at a step,
    /// power losses, wiped and full disks, partitions, drops by type and a lying replica.
    /// (5: a replica replaying VIEW-CHANGEs; 8: one equivocating, lying in checkpoints and censoring;
    /// 9: an equivocating primary and power losses; 13: a wipe; 23: power losses; 28, 29: 5 % of ticks faulty.)
    static let seeds: [UInt64] = [1, 5, 8, 9, 13, 23, 28, 29]
    static let sevenReplicaSeed: UInt64 = 4
    static let options = SimulationOptions(replicas: 4, steps: 1_000, quietTicks: 2_000)

    func testFixedSeedsHoldEveryProperty() {
        var faults = 0, byzantine = 0
        for seed in Self.seeds {
            let report = Simulation.run(seed: seed, options: Self.options)
            XCTAssertEqual(report.violations.map(\.description), [],
                           "seed \(seed): \(report.summary)\nreplay: \(Self.options.replayCommand(seed: seed))\n\(report.traceTail.suffix(40).joined(separator: "\n"))")
            XCTAssertGreaterThan(report.acknowledged, 0, "seed \(seed): nothing acknowledged")
            faults += report.faults
            if report.scenario.contains("byzantine (") { byzantine += 1 }
        }
        XCTAssertGreaterThan(faults, 20, "the fixed seeds inject faults")
        XCTAssertGreaterThan(byzantine, 0, "a fixed seed has a byzantine replica")
    }

    /// The simulator runs as a TLS cluster does: VIEW-CHANGEs signed (`SimViewChangeKeys` under the adapter's
    /// `PBFTSignatures`), so a NEW-VIEW's relayed VIEW-CHANGEs are checked by signature. Seed 10156 (sweep
    /// options) is the unsigned mode's wedge: at 3.3 s a link blip lost vp2's VIEW-CHANGE(3) to vp0, so vp0 could
    /// not install the NEW-VIEW(3) relaying it (unsigned, a replica trusts only VIEW-CHANGEs it received) and kept
    /// h at 18; every process then died, vp2's disk was wiped, and vp3 alone held checkpoint 21, where view 3
    /// started: no NEW-VIEW could be built in any later view, and 402 clients were never answered (PROTOCOL.md
    /// section 8). Signed, vp0 checks vp2's relayed VIEW-CHANGE, installs view 3 at 3.55 s and transfers to 21.
    func testTheSimulatorSignsViewChangesAsATLSClusterAndSeed10156Converges() {
        let world = SimWorld(seed: 10156, options: SimulationOptions())
        world.run()
        XCTAssertEqual(world.checker.violations.map(\.description), [], world.trace.tail.suffix(40).joined(separator: "\n"))
        for slot in world.slots {
            let verified = slot.host?.signatures?.verified ?? 0
            XCTAssertGreaterThan(verified, 0, "\(slot.name) checked VIEW-CHANGE signatures")
        }
        XCTAssertTrue(world.scenario.options.viewChangesVerified)
    }

    /// Seeds 28977 and 29396 (sweep options, signed): a replica moved h to a NEW-VIEW's starting
    /// checkpoint that only f+1 VIEW-CHANGEs held, one holder was then lost (left down in 28977,
    /// its disk wiped in 29396), and the other correct replicas never reached that checkpoint: no
    /// NEW-VIEW could be built in any later view, with three replicas up. h now moves there only
    /// once it is stable (`PBFTReplica.startFrom`).
    func testSeedsWhereANewViewStartedFromACheckpointOnlyFPlusOneHeldConverge() {
        for seed: UInt64 in [28977, 29396] {
            let world = SimWorld(seed: seed, options: SimulationOptions())
            world.run()
            XCTAssertEqual(world.checker.violations.map(\.description), [],
                           "seed \(seed): \(world.trace.tail.suffix(40).joined(separator: "\n"))")
        }
    }

    /// `weft sim --unsigned` runs the mode of a cluster without TLS: no signatures, NEW-VIEWs checked against the
    /// VIEW-CHANGEs received. The fixed seeds hold every property there too.
    func testTheUnsignedModeHoldsEveryPropertyOnTheFixedSeeds() {
        var options = Self.options
        options.unsigned = true
        for seed in Self.seeds.prefix(4) {
            let world = SimWorld(seed: seed, options: options)
            world.run()
            XCTAssertFalse(world.scenario.options.viewChangesVerified)
            XCTAssertTrue(world.slots.allSatisfy { $0.host.map { $0.signatures == nil } ?? true }, "seed \(seed): unsigned")
            XCTAssertEqual(world.checker.violations.map(\.description), [],
                           "seed \(seed): replay: \(options.replayCommand(seed: seed))\n\(world.trace.tail.suffix(40).joined(separator: "\n"))")
        }
    }

    /// Seeds whose byzantine primary forges request keys (26, 232): the simulated replicas
    /// authenticate requests as the peer does (`PBFTOptions(settings)`), so no forged
    /// transaction is ordered or acknowledged. (With the simulator's options left at
    /// `authenticatedRequests = false`, both ended with `forged-...` transactions in blocks.)
    func testAForgingPrimaryIsRefusedAsInThePeer() {
        for seed: UInt64 in [26, 232] {
            let report = Simulation.run(seed: seed, options: Self.options)
            XCTAssertTrue(report.scenario.contains("forge-requests"), "seed \(seed): \(report.scenario)")
            let broken = report.violations.filter { $0.property == .validity || $0.property == .clientIntegrity }
            XCTAssertEqual(broken.map(\.description), [], "seed \(seed): \(report.summary)")
        }
    }

    /// L2's scenario on a fault-free seed (3): at 3 s vp2's VIEW-CHANGEs are lost to everyone for a
    /// while (`lost-view-changes`), vp1, the next view's primary, is left down for good, and vp0, the
    /// primary, is killed for 1 s so that a view change must get past the dead vp1. The three up
    /// replicas must still converge and answer every client within the quiet phase. (Built here
    /// rather than found by seed: which seed's draw leaves a replica down moves whenever the PBFT
    /// code's messages change.) With the new-view timer at N-f VIEW-CHANGEs instead of f+1 (L2
    /// reverted in a scratch build) this test fails: the three stop at height 39, in view 1 or
    /// below, and 236 load requests are never answered; in the sweep such seeds end with two
    /// replicas waiting in view v holding two VIEW-CHANGEs and the third alone in a later view.
    func testAReplicaLeftDownForGoodAfterLostViewChangesStillLeavesALiveCluster() {
        let (world, heightThen) = runFaultFreeSeed { world in
            world.faults.loseViewChanges(of: 2, for: 2_000, leaveDown: true)
            world.crash(world.slots[0], powerLoss: false, why: "killed for the test", restartAfter: 1_000)
        }
        XCTAssertEqual(world.slots.filter(\.leftDown).map(\.id), [1])
        XCTAssertFalse(world.slots[1].isUp)
        XCTAssertEqual(world.checker.violations.map(\.description), [], world.trace.tail.suffix(40).joined(separator: "\n"))
        let up = [0, 2, 3].map { world.slots[$0] }
        XCTAssertEqual(Set(up.map { $0.ledger?.durableHeight ?? 0 }).count, 1, "the three up replicas converged")
        XCTAssertGreaterThan(Int(up[0].ledger?.durableHeight ?? 0), heightThen + 50, "and went on committing")
        XCTAssertTrue(up.allSatisfy { ($0.host?.replica.view ?? 0) >= 2 }, "in a view past the one whose primary is down")
        let late = world.clients.requests.filter { $0.host != 1 && $0.submittedAt > 5_000 && $0.answers.isEmpty }
        XCTAssertEqual(late.map(\.txid), [], "every client of an up validator answered")
    }

    /// Seed 36 (sweep options): vp0, the primary, censors vp1 from the load phase on, while an
    /// uncensored validator gets a request every quarter request timeout, so the plain request timer
    /// keeps restarting: only the watch on the oldest request replaces the censor in time (with that
    /// watch off, L6 reverted in a scratch build, the sweep's run of this seed fails: vp1's load
    /// requests are answered only after the load ends, up to 1,032 ticks after they were sent,
    /// against a bound of 764).
    func testACensoringPrimaryUnderSteadyLoadIsReplacedWithinTheAnswerBound() {
        let world = SimWorld(seed: 36, options: SimulationOptions())
        XCTAssertEqual(world.scenario.lies, [.censor])
        XCTAssertEqual(world.byzantine?.id, 0)
        XCTAssertEqual(world.scenario.censored, 1)
        XCTAssertEqual(world.steadyLoadPeriod, world.scenario.options.requestTimeoutTicks / 4)
        world.run()
        XCTAssertEqual(world.checker.violations.map(\.description), [], world.trace.tail.suffix(40).joined(separator: "\n"))
        let window = UInt64(world.loadTicks.lowerBound * 10)..<UInt64(world.loadTicks.upperBound * 10)
        let censored = world.clients.requests.filter { $0.host == 1 && window.contains($0.submittedAt) }
        XCTAssertGreaterThan(censored.count, 20)
        XCTAssertTrue(censored.allSatisfy { $0.answers.contains { $0.success } }, "every request of the censored origin ordered")
        XCTAssertTrue(world.slots.allSatisfy { ($0.host?.replica.view ?? 0) > 0 }, "the censor was replaced")
    }

    /// L3's window, aimed (`stall-then-power-loss`) on a fault-free seed (3): at 3 s every correct
    /// ledger's fsync stalls (200-1500 ms a turn) for 5 s; once a checkpoint above every sequence
    /// executed before is stable and durable at 2f+1 replicas, all four lose power (unsynced writes
    /// lost) and restart. The blocks behind that checkpoint must have been durable: the cluster
    /// converges and answers every client. (Built here rather than found by seed, as the L2 test.)
    /// With the replica told of each execution right after `ledger.append` (L3 reverted in a scratch
    /// build, `WEFT_REVERT=L3`) this test fails: the heights stop at 40 and 637 clients are never answered.
    func testAPowerLossOfEveryReplicaAfterACheckpointDuringALedgerStallLosesNoBlockItNeeds() {
        let (world, heightThen) = runFaultFreeSeed { $0.faults.ledgerStall.begin(for: 5_000) }
        XCTAssertEqual(world.faults.ledgerStall.powerLosses, 1, "the power went during the stall, after a stable checkpoint")
        XCTAssertEqual(world.checker.violations.map(\.description), [], world.trace.tail.suffix(40).joined(separator: "\n"))
        let heights = world.slots.map { $0.ledger?.durableHeight ?? 0 }
        XCTAssertEqual(Set(heights).count, 1, "every replica converged: \(heights)")
        XCTAssertGreaterThan(Int(heights[0]), heightThen + 50, "and went on committing")
        let late = world.clients.requests.filter { $0.submittedAt > 10_000 && $0.answers.isEmpty }
        XCTAssertEqual(late.map(\.txid), [], "every client after the restarts answered")
    }

    /// L1's window, aimed (`idle-transfer-then-down`) on a fault-free seed (6; on 3 the idle checkpoint is a K-th one): at 3 s one backup misses every
    /// COMMIT for 1-3 s, then the clients pause; the others go idle after a sequence number no K-th checkpoint
    /// covers and announce it, the backup transfers to it (its h above theirs), and the primary goes down for good.
    /// The three left must build a NEW-VIEW over the K-th and the idle checkpoints, converge and answer every
    /// client. (Built here rather than found by seed, as the L2 test.) With idle checkpoints kept out of the C
    /// sets (L1 reverted in a scratch build, `WEFT_REVERT=L1`: neither the last executed nor the announced ones)
    /// this test fails: the three stop at height 73 and the load's clients are never answered.
    func testAPrimaryDownForGoodAfterABackupTransferredToAnIdleCheckpointLeavesALiveCluster() {
        let (world, heightThen) = runFaultFreeSeed(6) { $0.faults.idleTransfer.begin() }
        XCTAssertEqual(world.faults.idleTransfer.primariesLeftDown, 1, "the backup transferred, the primary went down: "
                       + world.trace.tail.suffix(20).joined(separator: "\n"))
        XCTAssertEqual(world.checker.violations.map(\.description), [], world.trace.tail.suffix(40).joined(separator: "\n"))
        let up = world.slots.filter { !$0.leftDown }
        XCTAssertEqual(up.count, 3)
        let heights = up.map { $0.ledger?.durableHeight ?? 0 }
        XCTAssertEqual(Set(heights).count, 1, "the three up replicas converged: \(heights)")
        XCTAssertGreaterThan(Int(heights[0]), heightThen + 50, "and went on committing")
        let late = world.clients.requests.filter { !world.slots[$0.host].leftDown && $0.submittedAt > 10_000 && $0.answers.isEmpty }
        XCTAssertEqual(late.map(\.txid), [], "every client of an up validator answered")
    }

    /// A seed with no faults drawn and no byzantine replica (3 unless told) with `strike` at 3 s, run
    /// to the end and checked; also the height vp0's disk had just before the strike.
    private func runFaultFreeSeed(_ seed: UInt64 = 3, strike: (SimWorld) -> Void) -> (world: SimWorld, heightThen: Int) {
        let world = SimWorld(seed: seed, options: SimulationOptions())
        XCTAssertEqual(world.scenario.faultRate, 0)
        XCTAssertNil(world.byzantine)
        world.start()
        world.advance(ticks: 300)
        let heightThen = world.slots[0].disk.blockCount
        strike(world)
        world.advance(ticks: world.options.steps + world.options.quietTicks - 300)
        world.checker.finish()
        return (world, heightThen)
    }

    func testSameSeedSameRun() {
        let options = SimulationOptions(replicas: 4, steps: 600, quietTicks: 600, trace: true)
        let first = Simulation.run(seed: 1, options: options)
        let second = Simulation.run(seed: 1, options: options)
        XCTAssertGreaterThan(first.fullTrace.count, 1_000)
        XCTAssertEqual(first.fullTrace, second.fullTrace)
        XCTAssertEqual(first.heights, second.heights)
        let other = Simulation.run(seed: 2, options: options)
        XCTAssertNotEqual(first.fullTrace, other.fullTrace)
    }

    func testSevenReplicasRun() {
        let options = SimulationOptions(replicas: 7, steps: 500, quietTicks: 1_500)
        let report = Simulation.run(seed: Self.sevenReplicaSeed, options: options)
        XCTAssertEqual(report.heights.count, 7)
        XCTAssertEqual(report.violations.map(\.description), [], report.traceTail.suffix(40).joined(separator: "\n"))
        XCTAssertGreaterThan(report.acknowledged, 0)
    }
}
