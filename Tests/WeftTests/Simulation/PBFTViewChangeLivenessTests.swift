import Foundation
import XCTest
@testable import Weft

/// View changes that must not wedge (issue 21, holes L1 and L2).
final class PBFTViewChangeLivenessTests: XCTestCase {
    private func txids(_ net: SimulatedNetwork, _ r: Int) -> Set<String> {
        Set(net.blocks[r].flatMap { try! Protos_Block(serializedBytes: $0).transactions.map(\.txid) })
    }

    /// Issue 21, L2. N=4, replica 1 (the primary of view 1) is dead: 0, 2 and 3
    /// send VIEW-CHANGE(1). 2 holds three and starts its new-view timer, but its
    /// own VIEW-CHANGE(1), and every resend of it, is lost to 0 and 3. 2 moves on
    /// to view 2; 0 and 3 hold two VIEW-CHANGEs for view 1 and one for view 2.
    /// The three must still end in one view with every request ordered.
    func testALostViewChangeDoesNotWedgeTheViewChange() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, logMultiplier: 2, batchSize: 1, batchTimeoutTicks: 1,
                            requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20, resendViewChangeTicks: 8)
        let net = SimulatedNetwork(options: o, seed: 77)
        net.isolated = [1]
        net.outboundHook = { e in
            guard case .pbft(let m) = e.payload else { return [e] }
            switch m.payload {
            case .viewChange(let vc) where e.from == 2 && vc.view == 1:
                return []  // the blip: 2's VIEW-CHANGE(1) never reaches 0 and 3
            case .prePrepare(let pp) where pp.view == 0:
                return []  // the primary of view 0 orders nothing: all three time out into view 1
            default:
                return [e]
            }
        }
        for t in 0..<6 { net.submit("tx\(t)", at: [0, 2, 3][t % 3]) }
        XCTAssertTrue(net.run(maxSteps: 20_000) { net.replicas[2].view >= 2 }, "replica 2 left view 1 on its new-view timer")
        let live = [0, 2, 3]
        let settled = net.run(maxSteps: 60_000) {
            live.allSatisfy { net.replicas[$0].activeView && net.replicas[$0].outstandingCount == 0 }
                && Set(live.map { net.replicas[$0].view }).count == 1
        }
        XCTAssertTrue(settled, "views \(net.replicas.map(\.view)) active \(net.replicas.map(\.activeView)) outstanding \(net.replicas.map(\.outstandingCount))")
        XCTAssertNil(net.agreementProblem(among: live))
        XCTAssertEqual(txids(net, 2), Set((0..<6).map { "tx\($0)" }))
    }

    /// Issue 21, L1. N=4, K=10: everyone is stable at 10; 0, 1 and 2 execute
    /// 11...15 and traffic stops; 3 missed them and transfers to the idle
    /// checkpoint (15, id15): h=15, C={15}, while the others hold h=10, C={10}.
    /// Then the primary 0 crashes: the view change must still find a checkpoint
    /// to start from (15 has one holder in C sets that hold only K-multiples,
    /// and only two of the three have h <= 10).
    func testANewViewIsBuiltWhenOneReplicaTransferredToAnIdleCheckpoint() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, logMultiplier: 4, batchSize: 1, batchTimeoutTicks: 1,
                            requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20, resendViewChangeTicks: 8)
        let net = SimulatedNetwork(options: o, seed: 91)
        for t in 0..<10 { net.submit("tx\(t)", at: t % 4) }
        XCTAssertTrue(net.runUntilQuiet())
        XCTAssertTrue(net.run(maxSteps: 5_000) { net.replicas.allSatisfy { $0.lowWatermark == 10 } })
        net.outboundHook = { e in
            guard e.to == 3, case .pbft(let m) = e.payload else { return [e] }
            switch m.payload {
            case .prePrepare(let p) where p.sequenceNumber > 10: return []
            case .prepare(let p) where p.sequenceNumber > 10: return []
            case .commit(let c) where c.sequenceNumber > 10: return []
            default: return [e]
            }
        }
        // 3 never hears of them (their spread to it is lost): nothing outstanding there, no timer.
        // (The others hold them from their origin, as authenticated requests need.)
        net.requestsLost = { _, to in to == 3 }
        for t in 10..<15 { _ = net.submit("tx\(t)", at: 0) }
        XCTAssertTrue(net.run(maxSteps: 20_000) { net.replicas[3].lastExecuted == 15 }, "3 at \(net.replicas[3].lastExecuted)")
        XCTAssertTrue(net.actionLog[3].contains { $0.hasPrefix("transferred 15") })
        XCTAssertEqual(net.replicas.map(\.lowWatermark), [10, 10, 10, 15])
        net.outboundHook = nil
        net.requestsLost = nil
        net.isolated = [0]
        for t in 15..<21 { net.submit("tx\(t)", at: [1, 2, 3][t % 3]) }
        let live = [1, 2, 3]
        let settled = net.run(maxSteps: 60_000) {
            live.allSatisfy { net.replicas[$0].activeView && net.replicas[$0].outstandingCount == 0 && net.replicas[$0].view > 0 }
        }
        XCTAssertTrue(settled, "views \(net.replicas.map(\.view)) active \(net.replicas.map(\.activeView)) outstanding \(net.replicas.map(\.outstandingCount))")
        XCTAssertNil(net.agreementProblem(among: live))
        for r in live { XCTAssertEqual(txids(net, r), Set((0..<21).map { "tx\($0)" }), "replica \(r)") }
    }

    /// A replica that completes a state transfer during a view change keeps its new-view
    /// timer: if no NEW-VIEW comes it moves on to the next view (with a VIEW-CHANGE built
    /// from the state it has now). (Before: the transfer cleared the timer for good, and
    /// whole-host seed 11 ended with three replicas in view 7 for ever, their VIEW-CHANGEs
    /// for it built before their transfers, and the fourth alone in view 8.)
    func testAStateTransferDuringAViewChangeKeepsTheNewViewTimer() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20)
        let r = PBFTReplica(id: 2, options: o)
        r.startViewChange(to: 1, reason: .requestTimeout)
        var vc = Pbft_view_change()
        vc.view = 1
        vc.replicaID = 3
        r.receive(PBFTMake.message(.viewChange(vc)), from: 3)
        r.tick()   // two VIEW-CHANGEs for view 1 (f + 1): the new-view timer runs
        _ = r.takeActions()
        r.requestStateTransfer(sequence: 5, id: "S5", replicas: [0, 1, 3])
        r.stateTransferCompleted(sequence: 5, checkpointID: "S5", requestStamps: RequestStamps())
        var next: [PBFTViewChangeReason] = []
        for _ in 0..<100 where next.isEmpty {
            r.tick()
            next = r.takeActions().viewChangesStarted.filter { $0.to == 2 }.map(\.reason)
        }
        XCTAssertEqual(next, [.newViewTimeout], "no NEW-VIEW for view 1 and no view change to view 2")
        XCTAssertEqual(r.viewChanges[2]?[2]?.h, 5, "the VIEW-CHANGE for view 2 carries the transferred checkpoint")
    }

    /// The new-view timeout doubles per failed attempt up to 32 times the configured one.
    /// (Before: uncapped. Whole-host seed 2076 went through eighteen views, each primary
    /// refused at once, and the timeout reached 52 × 2^18 ticks; three replicas then held
    /// N-f VIEW-CHANGEs for view 29, whose primary had moved on to 30 alone, and waited out
    /// that timer for the rest of the run.)
    func testTheNewViewTimeoutDoublingIsCapped() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20)
        let r = PBFTReplica(id: 2, options: o)
        r.startViewChange(to: 1, reason: .requestTimeout)
        var waits: [Int] = []
        for _ in 0..<10 {
            var vc = Pbft_view_change()
            vc.view = r.view
            vc.replicaID = 3
            r.receive(PBFTMake.message(.viewChange(vc)), from: 3)   // f+1 for this view: the timer runs
            let from = r.view
            var ticks = 0
            while r.view == from, ticks < 100_000 { r.tick(); ticks += 1 }
            waits.append(ticks)
            _ = r.takeActions()
        }
        XCTAssertEqual(waits, [20, 40, 80, 160, 320, 640, 640, 640, 640, 640])
    }

    // MARK: a NEW-VIEW started from a checkpoint only f+1 hold

    private func viewChange(view: UInt64, replica: UInt64, c: [(UInt64, String)]) -> Pbft_view_change {
        PBFTMake.viewChange(view: view, replica: replica, c: c)
    }

    /// Backup `id` of 4 executes 1-4 in view 0 (K = 10 by default: no K-th checkpoint); no
    /// checkpoint becomes stable here (no other replica's CHECKPOINT arrives).
    private func replicaThatExecutedOneToFour(id: UInt64 = 2, k: UInt64 = 10, logMultiplier: UInt64 = 2) -> PBFTReplica {
        let o = PBFTOptions(n: 4, f: 1, k: k, logMultiplier: logMultiplier, requestTimeoutTicks: 100, viewChangeTimeoutTicks: 50)
        let r = PBFTReplica(id: id, options: o)
        let other: UInt64 = id == 1 ? 2 : 1
        for n: UInt64 in 1...4 {
            let b = PBFTMake.batch("t\(n)")
            let d = PBFTDigest.of(b)
            r.receive(PBFTMake.prePrepare(n: n, batch: b), from: 0)
            r.receive(PBFTMake.prepare(n: n, digest: d, replica: other), from: other)
            for k: UInt64 in [0, other] { r.receive(PBFTMake.commit(n: n, digest: d, replica: k), from: k) }
            r.executed(sequence: n, checkpointID: "S\(n)")
        }
        XCTAssertEqual(r.lastExecuted, 4)
        return r
    }

    /// Replica 2 installs NEW-VIEW(1), which starts from checkpoint 4: replicas 1 and 2 hold it
    /// (f+1), replica 3 does not (h 0, C {0}).
    private func installViewOneFromAWeakCheckpoint(_ r: PBFTReplica) {
        r.startViewChange(to: 1, reason: .requestTimeout)
        let own = r.viewChanges[1]![2]!
        XCTAssertTrue(own.cset.contains { $0.sequenceNumber == 4 && $0.id == "S4" }, "its C set holds 4: \(own.cset)")
        let vset = [viewChange(view: 1, replica: 1, c: [(0, ""), (4, "S4")]), own,
                    viewChange(view: 1, replica: 3, c: [(0, "")])]
        for vc in vset where vc.replicaID != 2 { r.receive(PBFTMake.message(.viewChange(vc)), from: vc.replicaID) }
        let cp = ViewChangeRules.initialCheckpoint(vset, f: 1, quorum: 3)
        XCTAssertEqual(cp?.sequence, 4)
        XCTAssertEqual(cp?.replicas, [1, 2], "4 has f+1 holders, not 2f+1")
        var nv = Pbft_new_view()
        nv.view = 1
        nv.replicaID = 1
        nv.vset = vset
        nv.xset = ViewChangeRules.assignSequenceNumbers(vset, h: 4, logSize: r.options.logSize, f: 1, quorum: 3) ?? [:]
        r.receive(PBFTMake.message(.newView(nv)), from: 1)
        XCTAssertTrue(r.activeView)
        XCTAssertEqual(r.view, 1)
    }

    /// A replica keeps h, and the P entries under it, when a NEW-VIEW starts from a checkpoint
    /// that only f+1 VIEW-CHANGEs hold: one of them may be the faulty replica. Whole-host seed
    /// 28977 (signed): vp2 started view 6 from checkpoint 6 that vp1 and vp2 held, moved h to 6
    /// and dropped P for 3-6; vp1 was then left down for good, and vp0 (h 0, C {0, 2}) and vp3
    /// (h 2, C {2, 3}) had never reached 6. Checkpoint 6 had one holder, 2 had h at or below it
    /// at two of three: no NEW-VIEW in views 9 to the end. Here replica 1 is the one lost: the
    /// next NEW-VIEW must still be buildable from replicas 0, 2 and 3, and re-propose 1-4.
    func testANewViewFromACheckpointOnlyFPlusOneHoldLeavesHWhereItWas() {
        let r = replicaThatExecutedOneToFour()
        installViewOneFromAWeakCheckpoint(r)
        XCTAssertEqual(r.lowWatermark, 0, "h stays at the last stable checkpoint")
        XCTAssertEqual(r.checkpoints.own[4], "S4")
        r.startViewChange(to: 2, reason: .requestTimeout)
        let own = r.viewChanges[2]![2]!
        XCTAssertEqual(own.h, 0)
        XCTAssertEqual(own.pset.map(\.sequenceNumber), [1, 2, 3, 4], "P still says 1-4 prepared")
        // Replica 0, the primary of view 0, pre-prepared 1-4 (its Q set); replica 3 missed them.
        var primary = viewChange(view: 2, replica: 0, c: [(0, "")])
        primary.qset = own.pset
        let vset = [primary, own, viewChange(view: 2, replica: 3, c: [(0, "")])]
        let cp = ViewChangeRules.initialCheckpoint(vset, f: 1, quorum: 3)
        XCTAssertEqual(cp?.sequence, 0, "without replica 1, the next NEW-VIEW starts from 0")
        let xset = ViewChangeRules.assignSequenceNumbers(vset, h: 0, logSize: r.options.logSize, f: 1, quorum: 3)
        XCTAssertEqual(xset?.keys.sorted(), [1, 2, 3, 4], "and re-proposes 1-4 as they were ordered")
        XCTAssertEqual(xset?[3], PBFTDigest.of(PBFTMake.batch("t3")))
    }

    /// Every replica that holds the view's starting checkpoint announces it; 2f+1 of them make it
    /// stable, and h moves there. Until then, the view's pre-prepares are above it, across a restart too.
    func testTheViewsStartingCheckpointBecomesStableOnceTwoFPlusOneAnnounceIt() {
        let r = replicaThatExecutedOneToFour()
        var records: [String: [UInt8]] = [:]
        func keep(_ actions: [PBFTAction]) {
            for a in actions { if case .persist(let k, let v) = a { records[k] = v } }
        }
        keep(r.takeActions())
        installViewOneFromAWeakCheckpoint(r)
        let actions = r.takeActions()
        keep(actions)
        XCTAssertEqual(actions.broadcastCheckpoints.map { "\($0.sequenceNumber) \($0.id)" }, ["4 S4"], "it announces 4")
        let early = PBFTMake.prePrepare(view: 1, n: 3, batch: PBFTMake.batch("forged"), replica: 1)
        let refused = r.counters.droppedOutsideWatermarks
        r.receive(early, from: 1)
        XCTAssertEqual(r.counters.droppedOutsideWatermarks, refused + 1, "3 was decided before view 1")
        let restarted = PBFTReplica(id: 2, options: r.options, lastExecuted: 4, lastCheckpointID: "S4", restoring: records)
        XCTAssertEqual(restarted.lowWatermark, 0)
        restarted.receive(early, from: 1)
        XCTAssertEqual(restarted.counters.droppedOutsideWatermarks, 1, "after a restart too")
        XCTAssertTrue(restarted.takeActions().broadcastPrepares.isEmpty)
        r.receive(PBFTMake.checkpoint(n: 4, id: "S4", replica: 1), from: 1)
        XCTAssertEqual(r.lowWatermark, 0, "two of three")
        r.receive(PBFTMake.checkpoint(n: 4, id: "S4", replica: 3), from: 3)
        XCTAssertEqual(r.lowWatermark, 4, "2f+1 announced 4: stable")
    }

    /// A NEW-VIEW whose re-proposals do not fit in (h, h + L] moves h to its start even when
    /// only f+1 hold it: they are the view's pre-prepares, and P and Q report only (h, h + L].
    /// Whole-host seed 26221 with h kept there: vp3, primary of view 3 from checkpoint 20, h 5,
    /// L 15, could not report its re-proposal of 21 in Q, and no later NEW-VIEW could be built.
    /// (Seed 4932, with those re-proposals logged only once h moved: vp1, primary of view 5,
    /// restarted and gave 131, re-proposed in its NEW-VIEW, to a new batch.) Its next sequence
    /// number is above the xset, after a restart too.
    func testANewViewWhoseReproposalsDoNotFitInTheWindowMovesHToItsStart() {
        let r = replicaThatExecutedOneToFour(id: 1, k: 2, logMultiplier: 2)  // L = 4
        var records: [String: [UInt8]] = [:]
        func keep(_ actions: [PBFTAction]) {
            for a in actions { if case .persist(let k, let v) = a { records[k] = v } }
        }
        keep(r.takeActions())
        r.startViewChange(to: 1, reason: .requestTimeout)
        let later = (5...6).map { n -> Pbft_view_change.PQ in
            var e = Pbft_view_change.PQ()
            e.sequenceNumber = UInt64(n)
            e.batchDigest = PBFTDigest.of(PBFTMake.batch("u\(n)"))
            e.view = 0
            return e
        }
        // Replica 2 is stable at 4 and prepared 5 and 6; replica 3, stable at 2, pre-prepared them.
        let vc2 = PBFTMake.viewChange(view: 1, h: 4, replica: 2, c: [(4, "S4")], p: later, q: later)
        let vc3 = PBFTMake.viewChange(view: 1, h: 2, replica: 3, c: [(2, "S2")], q: later)
        r.receive(PBFTMake.message(.viewChange(vc2)), from: 2)
        r.receive(PBFTMake.message(.viewChange(vc3)), from: 3)
        for n in 5...6 { r.receive(PBFTMake.message(.returnRequestBatch(PBFTMake.batch("u\(n)"))), from: 2) }
        XCTAssertTrue(r.activeView, "the primary of view 1 sent its NEW-VIEW, fetched 5 and 6, and installed it")
        XCTAssertEqual(r.newViews[1]?.xset.keys.sorted(), [5, 6], "above its h + L, 4")
        XCTAssertEqual(r.lowWatermark, 4, "4 has two holders of three, but 5 and 6 are above 0 + L")
        XCTAssertEqual(r.computeQSet().keys.map(\.sequence).sorted(), [5, 6], "its Q set holds its re-proposals")
        XCTAssertEqual(r.seqNo, 6)
        keep(r.takeActions())
        let restarted = PBFTReplica(id: 1, options: r.options, lastExecuted: 4, lastCheckpointID: "S4", restoring: records)
        XCTAssertTrue(restarted.activeView)
        XCTAssertEqual(restarted.view, 1)
        XCTAssertEqual(restarted.seqNo, 6, "restarted, it still assigns after its NEW-VIEW's xset")
    }

    /// The `viewstart` record: "<view> <sequence> <id>", the id may be empty; anything else is
    /// ignored, and a replica restored with it keeps no view start (it changes nothing else).
    func testAViewStartRecordThatDoesNotDecodeIsIgnored() {
        XCTAssertEqual(PBFTPersistence.decodeViewStart(Array("3 5 S5".utf8)).map { "\($0.view) \($0.sequence) \($0.id)" }, "3 5 S5")
        XCTAssertEqual(PBFTPersistence.decodeViewStart(Array("3 5 ".utf8))?.id, "")
        for bad in ["", "3", "3 5", "x 5 S5", "3 -1 S5"] {
            XCTAssertNil(PBFTPersistence.decodeViewStart(Array(bad.utf8)), "'\(bad)'")
        }
        let o = PBFTOptions(n: 4, f: 1, k: 10, requestTimeoutTicks: 100)
        let r = PBFTReplica(id: 2, options: o, restoring: ["view": Array("1".utf8), "installed": Array("1".utf8),
                                                           PBFTPersistence.viewStartKey: Array("garbage".utf8)])
        XCTAssertEqual(r.view, 1)
        XCTAssertEqual(r.viewStart.sequence, 0)
        XCTAssertNil(r.stateTransferTarget)
    }
}
