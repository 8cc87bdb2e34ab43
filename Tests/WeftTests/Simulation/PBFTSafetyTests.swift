import Foundation
import XCTest
@testable import Weft

/// Safety holes found in review, each replayed on a seeded simulated network.
final class PBFTSafetyTests: XCTestCase {
    private static func isCommit(_ e: SimulatedNetwork.Envelope) -> Bool {
        if case .pbft(let m) = e.payload, case .commit = m.payload { return true }
        return false
    }

    private func forgedViewChange(view: UInt64, replica: UInt64, digest: String) -> Pbft_view_change {
        var e = Pbft_view_change.PQ()
        e.sequenceNumber = 1
        e.batchDigest = digest
        e.view = 0
        var c = Pbft_view_change.C()
        c.sequenceNumber = 0
        c.id = ""
        var vc = Pbft_view_change()
        vc.view = view
        vc.h = 0
        vc.cset = [c]
        vc.pset = [e]
        vc.qset = [e]
        vc.replicaID = replica
        return vc
    }

    /// Finding 1: COMMITs are lost so that only replica 2 executes d at n=1. Replica 1,
    /// the primary of view 1, then forges a NEW-VIEW(1) whose vset entries (claiming
    /// replicas 0, 2, 3, each receiver's own id among them) put d' at n=1, hands out d'
    /// and commits it. The correct replicas must refuse the NEW-VIEW: no fork.
    func testForgedNewViewVsetIsRefused() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 1_000,
                            viewChangeTimeoutTicks: 1_000, resendViewChangeTicks: 1_000)
        let net = SimulatedNetwork(options: o, seed: 41)
        net.outboundHook = { e in Self.isCommit(e) && e.to != 2 ? [] : [e] }
        net.submit("d", at: 0)
        XCTAssertTrue(net.run(maxSteps: 5_000) { net.executions[2].count == 1 && net.inFlight == 0 })
        XCTAssertEqual(net.executions.map(\.count), [0, 0, 1, 0])
        net.outboundHook = nil
        net.isolated = [1]  // from here on, replica 1 is the test
        let forgedBatch = PBFTMake.batch([PBFTMake.request("d-prime", replica: 1, seconds: 99)])
        let d2 = PBFTDigest.of(forgedBatch)
        var nv = Pbft_new_view()
        nv.view = 1
        nv.replicaID = 1
        nv.vset = [0, 2, 3].map { forgedViewChange(view: 1, replica: $0, digest: d2) }
        nv.xset = [1: d2]
        for to: UInt64 in [0, 2, 3] { net.inject(PBFTMake.message(.newView(nv)), from: 1, to: to) }
        net.run(maxSteps: 2_000) { net.inFlight == 0 }
        for to: UInt64 in [0, 2, 3] {
            net.inject(PBFTMake.message(.returnRequestBatch(forgedBatch)), from: 1, to: to)
            net.inject(PBFTMake.prePrepare(view: 1, n: 1, batch: forgedBatch, replica: 1), from: 1, to: to)
        }
        net.run(maxSteps: 2_000) { net.inFlight == 0 }
        for to: UInt64 in [0, 2, 3] { net.inject(PBFTMake.commit(view: 1, n: 1, digest: d2, replica: 1), from: 1, to: to) }
        net.run(steps: 2_000)
        XCTAssertNil(net.agreementProblem())
        for r in [0, 2, 3] {
            XCTAssertGreaterThanOrEqual(net.replicas[r].counters.newViewsRefused, 1, "replica \(r)")
            XCTAssertFalse(net.actionLog[r].contains("newview 1"), "replica \(r)")
            XCTAssertFalse(net.executions[r].contains { $0.digest == d2 }, "replica \(r)")
        }
    }

    /// Finding 2: in view 0, d prepares at 0, 1, 2 for n=1 and only replica 2 gets the
    /// COMMITs and executes it. 0, 1, 3 time out and start the view change to 1, and
    /// restart before any NEW-VIEW. They must come back in the view change (not active
    /// in view 1, where its primary would reuse n=1 for another batch): no fork, and
    /// view 1 gets installed.
    func testRestartDuringViewChangeDoesNotActivateTheView() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 10,
                            viewChangeTimeoutTicks: 200, resendViewChangeTicks: 5)
        let net = SimulatedNetwork(options: o, seed: 42)
        var holdViewChanges = true
        net.outboundHook = { e in
            guard case .pbft(let m) = e.payload else { return [e] }
            switch m.payload {
            case .prePrepare, .prepare: return e.to == 3 ? [] : [e]
            case .commit: return e.to == 2 ? [e] : []
            case .viewChange: return holdViewChanges && e.to == 1 ? [] : [e]
            default: return [e]
            }
        }
        net.submit("d", at: 0)
        XCTAssertTrue(net.run(maxSteps: 20_000) { [0, 1, 3].allSatisfy { net.replicas[$0].view == 1 } && net.inFlight == 0 })
        XCTAssertEqual(net.executions.map(\.count), [0, 0, 1, 0])
        for r in [0, 1, 3] { net.restart(r) }
        holdViewChanges = false
        net.outboundHook = nil
        net.submit("d-prime", at: 1)
        net.run(steps: 20_000)
        XCTAssertNil(net.agreementProblem())
        for r in [0, 1, 3] {
            let after = net.actionLog[r].split(separator: "restarted").last ?? []
            XCTAssertTrue(after.contains("newview 1"), "replica \(r): view 1 installed after the restart")
        }
        XCTAssertEqual(net.executions[0].map(\.digest), net.executions[2].map(\.digest))
        XCTAssertEqual(net.executions[2].count, 2)
    }

    /// Finding 3: N=4 idle at n=5 with K=10 (no checkpoint stable past 0). Replica 1
    /// restarts, then the primary 0 crashes. The restarted replica must keep h = 0
    /// (its last stable checkpoint), not h = 5: otherwise its VIEW-CHANGE names a
    /// checkpoint nobody else holds and no NEW-VIEW is ever possible.
    func testRestartKeepsTheStableCheckpointAsLowWatermark() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, batchSize: 1, requestTimeoutTicks: 10,
                            viewChangeTimeoutTicks: 10, resendViewChangeTicks: 5)
        let net = SimulatedNetwork(options: o, seed: 43)
        for t in 0..<5 {
            net.submit("tx\(t)", at: t % 4)
            XCTAssertTrue(net.runUntilQuiet())
        }
        XCTAssertEqual(net.executions.map(\.count), [5, 5, 5, 5])
        net.restart(1)
        XCTAssertEqual(net.replicas[1].lowWatermark, 0)
        XCTAssertEqual(net.replicas[1].pset.keys.sorted(), [1, 2, 3, 4, 5], "P above h is kept, executed or not")
        net.isolated = [0]
        for t in 5..<10 {
            net.submit("tx\(t)", at: 1 + t % 3)
            net.run(steps: 50)
        }
        XCTAssertTrue(net.runUntilQuiet(maxSteps: 50_000, among: [1, 2, 3]))
        XCTAssertNil(net.agreementProblem())
        for r in 1...3 {
            XCTAssertTrue(net.actionLog[r].contains { $0.hasPrefix("newview") }, "replica \(r): a new view installed")
            XCTAssertTrue(net.replicas[r].activeView, "replica \(r)")
            XCTAssertEqual(net.executions[r].filter { !$0.digest.isEmpty }.count, 10, "replica \(r)")
        }
    }

    /// Finding 5: the host refuses a replica's state transfer (a checkpoint id it cannot
    /// decode). The replica must not stay frozen waiting for it: it asks again for a
    /// later target and catches up.
    func testRefusedStateTransferIsAskedAgain() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, logMultiplier: 2, batchSize: 1, batchTimeoutTicks: 1, requestTimeoutTicks: 1_000)
        let net = SimulatedNetwork(options: o, seed: 45)
        net.partition = [0, 0, 0, 1]
        for t in 0..<30 {
            net.submit("tx\(t)", at: t % 3)
            net.run(steps: 5)
        }
        XCTAssertTrue(net.runUntilQuiet(among: [0, 1, 2]))
        net.partition = nil
        net.refuseNextTransfer = [3]
        for t in 30..<35 {
            net.submit("tx\(t)", at: t % 3)
            net.run(steps: 5)
        }
        XCTAssertTrue(net.runUntilQuiet(among: [0, 1, 2]))
        net.run(steps: 500)
        XCTAssertTrue(net.actionLog[3].contains { $0.hasSuffix("refused") }, "\(net.actionLog[3].filter { $0.contains("transfer") })")
        // Fewer than L batches more: the next checkpoints fall inside replica 3's window.
        for t in 35..<43 {
            net.submit("tx\(t)", at: t % 3)
            net.run(steps: 5)
        }
        XCTAssertTrue(net.runUntilQuiet(among: [0, 1, 2]))
        net.run(steps: 2_000)
        XCTAssertTrue(net.actionLog[3].contains { $0.hasPrefix("transferred") }, "\(net.actionLog[3].filter { $0.contains("transfer") })")
        XCTAssertEqual(net.heights, Array(repeating: net.heights[0], count: 4), "heights \(net.heights)")
        XCTAssertNil(net.agreementProblem())
    }

    private func emptyViewChange(view: UInt64 = 1, replica: UInt64, h: UInt64 = 0) -> Pbft_view_change {
        var c = Pbft_view_change.C()
        c.sequenceNumber = 0
        c.id = ""
        var vc = Pbft_view_change()
        vc.view = view
        vc.h = h
        vc.cset = [c]
        vc.replicaID = replica
        return vc
    }

    /// Finding 1, unverified mode: a NEW-VIEW whose vset holds a VIEW-CHANGE not received
    /// yet waits for it and is installed once it arrives; one that relays a VIEW-CHANGE
    /// other than the one received from that replica is refused; with verified
    /// view-changes only the receiver's own entry is compared.
    func testNewViewWaitsForItsViewChangesAndRefusesSubstitutes() {
        let o = PBFTOptions(n: 4, f: 1, requestTimeoutTicks: 100)
        func joined(_ options: PBFTOptions = o) -> PBFTReplica {
            let r = PBFTReplica(id: 2, options: options)
            r.receive(PBFTMake.message(.viewChange(emptyViewChange(replica: 1))), from: 1)
            r.receive(PBFTMake.message(.viewChange(emptyViewChange(replica: 3))), from: 3)
            XCTAssertEqual(r.view, 1)
            _ = r.takeActions()
            return r
        }
        var nv = Pbft_new_view()
        nv.view = 1
        nv.replicaID = 1
        nv.xset = [1: ""]
        let r = joined()
        nv.vset = [emptyViewChange(replica: 0), emptyViewChange(replica: 1), r.viewChanges[1]![2]!]
        r.receive(PBFTMake.message(.newView(nv)), from: 1)
        XCTAssertFalse(r.activeView, "replica 0's VIEW-CHANGE is not here yet")
        XCTAssertEqual(r.counters.newViewsRefused, 0)
        r.receive(PBFTMake.message(.viewChange(emptyViewChange(replica: 0))), from: 0)
        XCTAssertTrue(r.activeView)
        XCTAssertTrue(r.takeActions().contains { if case .newViewInstalled(1) = $0 { return true } else { return false } })

        // Replica 3's entry is not what replica 3 sent.
        let r2 = joined()
        var substitute = nv
        substitute.vset = [emptyViewChange(replica: 1), r2.viewChanges[1]![2]!, emptyViewChange(replica: 3, h: 0)]
        substitute.vset[2].cset = []
        r2.receive(PBFTMake.message(.newView(substitute)), from: 1)
        XCTAssertFalse(r2.activeView)
        XCTAssertEqual(r2.counters.newViewsRefused, 1)

        // Verified mode: others' entries are taken as the host checked them, not the receiver's own.
        var verified = o
        verified.viewChangesVerified = true
        let r3 = joined(verified)
        var forgedOwn = nv
        forgedOwn.vset = [emptyViewChange(replica: 0), emptyViewChange(replica: 1), emptyViewChange(replica: 2, h: 0)]
        forgedOwn.vset[2].pset = [{ var e = Pbft_view_change.PQ(); e.sequenceNumber = 1; e.batchDigest = "x"; e.view = 0; return e }()]
        r3.receive(PBFTMake.message(.newView(forgedOwn)), from: 1)
        XCTAssertEqual(r3.counters.newViewsRefused, 1, "an entry claiming the receiver must be what it sent")
        nv.vset = [emptyViewChange(replica: 0), emptyViewChange(replica: 1), r3.viewChanges[1]![2]!]
        r3.receive(PBFTMake.message(.newView(nv)), from: 1)
        XCTAssertTrue(r3.activeView, "replica 0's entry is taken as verified")
    }
}
