import Foundation
import XCTest
@testable import Weft

/// Persisted records, and replicas restarted from them.
final class PBFTPersistenceTests: XCTestCase {
    /// `replica` executes `executions` (sequence, checkpoint id) in order, then (with `idle`) ticks
    /// through a request timeout with nothing to do; its records go to `store`, the rest is returned.
    private func executeThenIdle(_ replica: PBFTReplica, _ executions: [(UInt64, String)], idle: Bool = true,
                                 into store: inout [String: [UInt8]]) -> [PBFTAction] {
        replica.lastDispatched = max(replica.lastDispatched, executions.last?.0 ?? 0)
        for (sequence, id) in executions { replica.executed(sequence: sequence, checkpointID: id) }
        if idle { for _ in 0...replica.options.requestTimeoutTicks { replica.tick() } }
        return apply(replica.takeActions(), to: &store)
    }

    /// Applies `.persist` actions to a store; returns the other actions.
    private func apply(_ actions: [PBFTAction], to store: inout [String: [UInt8]]) -> [PBFTAction] {
        var rest: [PBFTAction] = []
        for a in actions {
            if case .persist(let key, let value) = a { store[key] = value } else { rest.append(a) }
        }
        return rest
    }

    /// Records come before the prepare that depends on them; a restarted backup
    /// refuses a conflicting pre-prepare for what it prepared, and still commits it.
    func testRestartedBackupDoesNotPrepareAConflictingBatch() {
        let o = PBFTOptions(n: 4, f: 1, requestTimeoutTicks: 100)
        var store: [String: [UInt8]] = [:]
        let r = PBFTReplica(id: 1, options: o)
        let b = PBFTMake.batch("a")
        let d = PBFTDigest.of(b)
        r.receive(PBFTMake.prePrepare(n: 1, batch: b), from: 0)
        let actions = r.takeActions()
        let kinds = actions.map { a -> String in
            switch a {
            case .persist(let key, _): return key
            case .broadcast(let m): if case .prepare = m.payload { return "prepare" } else { return "other" }
            default: return "other"
            }
        }
        XCTAssertEqual(kinds, ["stable", PBFTPersistence.batchKey(d), "qset", "prepare"])
        _ = apply(actions, to: &store)

        let restarted = PBFTReplica(id: 1, options: o, restoring: store)
        restarted.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch("b")), from: 0)
        XCTAssertEqual(restarted.counters.droppedConflictingDigest, 1)
        XCTAssertTrue(restarted.takeActions().broadcastPrepares.isEmpty)
        // The batch it prepared before the crash still commits and executes.
        let fresh = PBFTReplica(id: 1, options: o, restoring: store)
        for k: UInt64 in [2, 3] { fresh.receive(PBFTMake.prepare(n: 1, digest: d, replica: k), from: k) }
        for k: UInt64 in [0, 2] { fresh.receive(PBFTMake.commit(n: 1, digest: d, replica: k), from: k) }
        var after = store
        let out = apply(fresh.takeActions(), to: &after)
        XCTAssertEqual(out.executed, [1])
        XCTAssertNotNil(after["pset"], "prepared: the P set was written")
        XCTAssertEqual(PBFTPersistence.decodePQ(after["pset"]).map(\.sequenceNumber), [1])
    }

    /// A restarted primary never assigns again a sequence number it used in its view.
    func testRestartedPrimaryDoesNotReuseSequenceNumbers() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 100)
        var store: [String: [UInt8]] = [:]
        let p = PBFTReplica(id: 0, options: o)
        p.receiveRequest(PBFTMake.request("a", replica: 2, seconds: 1))
        p.receiveRequest(PBFTMake.request("b", replica: 2, seconds: 2))
        XCTAssertEqual(apply(p.takeActions(), to: &store).broadcastPrePrepares.map(\.sequenceNumber), [1, 2])
        let restarted = PBFTReplica(id: 0, options: o, restoring: store)
        restarted.receiveRequest(PBFTMake.request("c", replica: 2, seconds: 3))
        XCTAssertEqual(restarted.takeActions().broadcastPrePrepares.map(\.sequenceNumber), [3])
    }

    /// View-changes write the view; stable checkpoints delete what they make obsolete.
    /// A batch's record is named by its digest in URL-safe base64: the names records already on disk have.
    func testABatchRecordIsNamedByItsDigestInURLSafeBase64() {
        XCTAssertEqual(PBFTPersistence.batchKey("q+8/Zm9v+/YmFy="), "batch.q-8_Zm9v-_YmFy=")
        XCTAssertEqual(PBFTPersistence.batchKey(""), "batch.")
        let digest = PBFTDigest.of(PBFTMake.batch("a", "b", "c"))
        XCTAssertEqual(PBFTPersistence.batchKey(digest),
                       "batch." + digest.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.map(String.init).joined())
    }

    func testViewAndGarbageCollectionRecords() {
        let o = PBFTOptions(n: 4, f: 1, k: 2, requestTimeoutTicks: 3)
        var store: [String: [UInt8]] = [:]
        let r = PBFTReplica(id: 1, options: o)
        PBFTMake.commitAtBackup(r, sequences: 1...2)
        _ = apply(r.takeActions(), to: &store)
        XCTAssertEqual(store.keys.filter { $0.hasPrefix("batch.") }.count, 2)
        r.executed(sequence: 1, checkpointID: "S1")
        r.executed(sequence: 2, checkpointID: "S2")
        for k: UInt64 in [0, 2] { r.receive(PBFTMake.checkpoint(n: 2, id: "S2", replica: k), from: k) }
        _ = apply(r.takeActions(), to: &store)
        XCTAssertEqual(r.lowWatermark, 2)
        XCTAssertEqual(store.keys.filter { $0.hasPrefix("batch.") }, [], "batches at or below h are deleted")
        XCTAssertEqual(store["chkpt.2"], Array("S2".utf8))
        XCTAssertEqual(PBFTPersistence.decodePQ(store["pset"]), [])
        r.receiveRequest(PBFTMake.request("late", replica: 3, seconds: 1))
        for _ in 0..<4 { r.tick() }
        _ = apply(r.takeActions(), to: &store)
        XCTAssertEqual(r.view, 1)
        XCTAssertEqual(store["view"], Array("1".utf8))
        let restarted = PBFTReplica(id: 1, options: o, lastExecuted: 2, lastCheckpointID: "S2", restoring: store)
        XCTAssertEqual(restarted.view, 1)
        XCTAssertEqual(restarted.lowWatermark, 2)
    }

    /// Replicas crash and restart from their ledger and records in the middle of a
    /// run (a backup, then the primary): the network goes on and agrees.
    func testCrashAndRestartInTheMiddleOfARun() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, logMultiplier: 2, batchSize: 2, batchTimeoutTicks: 1,
                            requestTimeoutTicks: 20, viewChangeTimeoutTicks: 20, resendViewChangeTicks: 8)
        let net = SimulatedNetwork(options: o, seed: 77)
        net.asyncExecution = true
        for t in 0..<60 {
            net.submit("tx\(t)", at: [1, 2, 3][t % 3])
            net.run(steps: 10)
            if t == 20 { net.restart(2) }
            if t == 40 { net.restart(0) }
        }
        XCTAssertTrue(net.runUntilQuiet(among: [1, 3]))
        net.run(steps: 3_000)
        XCTAssertNil(net.agreementProblem())
        let top = net.heights.max()!
        XCTAssertGreaterThanOrEqual(net.heights.filter { $0 == top }.count, o.quorum, "heights \(net.heights)")
        let txids = Set(net.blocks[1].flatMap { try! Protos_Block(serializedBytes: $0).transactions.map(\.txid) })
        // A request its origin still held when that origin crashed may be lost (overtaken
        // elsewhere, with no one left to stamp it anew): its client's connection died with the
        // process. Every other request is ordered.
        let lostWithOrigin = Set((0...20).filter { [1, 2, 3][$0 % 3] == 2 }.map { "tx\($0)" })
        let missing = Set((0..<60).map { "tx\($0)" }).subtracting(txids)
        XCTAssertTrue(missing.isSubset(of: lostWithOrigin), "missing \(missing.sorted())")
        XCTAssertLessThanOrEqual(missing.count, 2, "missing \(missing.sorted())")
        XCTAssertTrue(net.actionLog[2].contains("restarted"))
    }
}

extension PBFTPersistenceTests {
    /// Issue 21, R1. The primary of view 1 builds its NEW-VIEW from the
    /// VIEW-CHANGEs of 1, 2 and 3 (0's are lost to it), and dies while
    /// broadcasting it: only replica 2 gets it. Restarted from its records, it
    /// must send that same NEW-VIEW again, never another one for view 1 (here
    /// one from the VIEW-CHANGEs of 0, 1 and 2: 3's are lost to it after the crash).
    func testARestartedPrimaryResendsTheSameNewView() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 10,
                            viewChangeTimeoutTicks: 200, resendViewChangeTicks: 5)
        let net = SimulatedNetwork(options: o, seed: 43)
        var crashed = false
        net.outboundHook = { e in
            guard case .pbft(let m) = e.payload else { return [e] }
            switch m.payload {
            case .prePrepare(let pp) where pp.view == 0: return []  // view 0 orders nothing
            case .viewChange where e.to == 1 && e.from == (crashed ? 3 : 0): return []
            default: return [e]
            }
        }
        net.crashAtBroadcast = { r, m in
            guard r == 1, !crashed, case .newView = m.payload else { return nil }
            crashed = true
            return [2]
        }
        net.submit("a", at: 2)
        XCTAssertTrue(net.run(maxSteps: 40_000) { crashed })
        net.run(steps: 20_000)
        let sent = net.newViewsSent[1].filter { $0.view == 1 }
        XCTAssertGreaterThan(sent.count, 1, "sent before the crash and again after")
        XCTAssertEqual(Set(sent.map { PBFTEncoding.bytes($0) }).count, 1,
                       "one NEW-VIEW for view 1, byte for byte: vsets \(sent.map { $0.vset.map(\.replicaID) })")
        net.outboundHook = nil
        net.submit("b", at: 3)
        XCTAssertTrue(net.runUntilQuiet())
        XCTAssertNil(net.agreementProblem())
        XCTAssertEqual(net.heights, [2, 2, 2, 2])
    }

    /// A replica stopped during a state transfer (h moved to checkpoint 30, executed only to
    /// 29) asks for the transfer again when it restarts; once the ledger is there its C set
    /// holds checkpoint 30, which a NEW-VIEW may need. (Before: it held h = 30 with no
    /// checkpoint at 30 for ever; whole-host seed 367 then failed every view change.)
    func testARestartedReplicaResumesItsStateTransfer() {
        let o = PBFTOptions(n: 4, f: 1, k: 9)
        let records: [String: [UInt8]] = [PBFTPersistence.stableKey: Array("30 ID30".utf8)]
        let r = PBFTReplica(id: 1, options: o, lastExecuted: 29, lastCheckpointID: "ID29", restoring: records)
        XCTAssertEqual(r.lowWatermark, 30)
        let asked = r.takeActions().compactMap { a -> UInt64? in if case .stateTransfer(let s, "ID30", _) = a { return s }; return nil }
        XCTAssertEqual(asked, [30], "the interrupted transfer is asked for again")
        r.stateTransferCompleted(sequence: 30, checkpointID: "ID30", requestStamps: RequestStamps())
        XCTAssertEqual(r.lastExecuted, 30)
        XCTAssertEqual(r.checkpoints.own[30], "ID30", "checkpoint 30 is in its C set")
    }
}

extension PBFTPersistenceTests {
    /// Whole-host seed 640: a replica restarted in a view change (view 8, never installed)
    /// while the others still worked in view 4 started its new-view timer at once, left for
    /// view 9 alone when it expired, and the others then climbed after it with doubling
    /// timeouts (24 s). Restarted, it waits in its view; its timer starts as in any view
    /// change, once f+1 VIEW-CHANGEs for that view are held.
    func testARestartedReplicaInAViewChangeDoesNotMoveAheadAlone() {
        let o = PBFTOptions(n: 4, f: 1, requestTimeoutTicks: 10, viewChangeTimeoutTicks: 20, resendViewChangeTicks: 5)
        var store: [String: [UInt8]] = [:]
        let before = PBFTReplica(id: 1, options: o)
        before.startViewChange(to: 8, reason: .requestTimeout)
        _ = apply(before.takeActions(), to: &store)

        let restarted = PBFTReplica(id: 1, options: o, restoring: store)
        let resent = apply(restarted.takeActions(), to: &store)
        XCTAssertTrue(resent.contains { if case .broadcast(let m) = $0, case .viewChange(let vc) = m.payload { return vc.view == 8 }; return false },
                      "its VIEW-CHANGE for view 8 is sent again")
        XCTAssertEqual(restarted.view, 8)
        for _ in 0..<(10 * o.viewChangeTimeoutTicks) { restarted.tick() }
        XCTAssertEqual(restarted.view, 8, "alone in view 8 for ten new-view timeouts, it stays there")

        var other = Pbft_view_change()
        other.view = 8
        other.replicaID = 2
        var m = Pbft_message()
        m.payload = .viewChange(other)
        restarted.receive(m, from: 2)
        for _ in 0..<(o.viewChangeTimeoutTicks + 1) { restarted.tick() }
        XCTAssertEqual(restarted.view, 9, "with f+1 VIEW-CHANGEs for view 8 and no NEW-VIEW, its timer runs out")
    }
}

extension PBFTPersistenceTests {
    /// Whole-host seed 453: a replica executed a null request (sequence 3) after its last
    /// block (2), announced an idle checkpoint for 3, and was restarted: the ledger says 2.
    /// Another replica had moved h to 3 on the word of f+1 such announcements; with the
    /// announcers back at 2 the checkpoint at 3 had one holder and no NEW-VIEW could start
    /// anywhere. The announced execution is recorded before the CHECKPOINT leaves, and a
    /// restart holds it again (its C set has (3, id)), while the ledger's id still matches.
    func testAnAnnouncedNullRequestIsStillExecutedAfterARestart() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, requestTimeoutTicks: 10)
        var store: [String: [UInt8]] = [:]
        let before = PBFTReplica(id: 2, options: o, lastExecuted: 2, lastCheckpointID: "ID2")
        let actions = executeThenIdle(before, [(3, "ID2")], into: &store)   // a null request: the chain is as after block 2
        let announced = actions.compactMap { a -> UInt64? in
            if case .broadcast(let m) = a, case .checkpoint(let c) = m.payload { return c.sequenceNumber }; return nil
        }
        XCTAssertEqual(announced, [3], "the idle checkpoint for the null request")

        let restarted = PBFTReplica(id: 2, options: o, lastExecuted: 2, lastCheckpointID: "ID2", restoring: store)
        XCTAssertEqual(restarted.lastExecuted, 3, "the announced null request is executed here still")
        XCTAssertTrue(restarted.viewChangeCheckpoints.contains { $0.sequenceNumber == 3 && $0.id == "ID2" },
                      "its C set holds the checkpoint it announced")

        let otherChain = PBFTReplica(id: 2, options: o, lastExecuted: 2, lastCheckpointID: "ID2-lost", restoring: store)
        XCTAssertEqual(otherChain.lastExecuted, 2, "a ledger in another state than the one announced decides")
    }
}

extension PBFTPersistenceTests {
    /// Whole-host seed 5240: vp0 moved h to 47, an idle checkpoint that vp2 and vp3 had
    /// announced; vp3 then executed on to 50 (a K-th one) and its C set held 45 and 50 only;
    /// with vp2 down, no checkpoint had f+1 holders and a quorum with h at or below it, and
    /// no NEW-VIEW could be built in any view. A checkpoint a replica announced stays in its
    /// C set (above h) after it executes past it, and after a restart.
    func testAnAnnouncedCheckpointStaysInTheCSetAfterLaterExecutionsAndARestart() {
        let o = PBFTOptions(n: 4, f: 1, k: 5, requestTimeoutTicks: 10)
        var store: [String: [UInt8]] = [:]
        let vp3 = PBFTReplica(id: 3, options: o, lastExecuted: 45, lastCheckpointID: "ID45")
        _ = executeThenIdle(vp3, [(46, "ID46"), (47, "ID47")], into: &store)   // idle: it announces 47
        _ = executeThenIdle(vp3, (UInt64(48)...50).map { ($0, "ID\($0)") }, idle: false, into: &store)
        XCTAssertEqual(vp3.lowWatermark, 45)
        XCTAssertTrue(vp3.viewChangeCheckpoints.contains { $0.sequenceNumber == 47 && $0.id == "ID47" }, "\(vp3.viewChangeCheckpoints)")

        let restarted = PBFTReplica(id: 3, options: o, lastExecuted: 50, lastCheckpointID: "ID50", restoring: store)
        let cset = restarted.viewChangeCheckpoints
        XCTAssertTrue(cset.contains { $0.sequenceNumber == 47 && $0.id == "ID47" }, "after a restart: \(cset)")

        func viewChange(_ replica: UInt64, h: UInt64, _ c: [Pbft_view_change.C]) -> Pbft_view_change {
            var vc = Pbft_view_change()
            vc.view = 9
            vc.replicaID = replica
            vc.h = h
            vc.cset = c
            return vc
        }
        func c(_ n: UInt64) -> Pbft_view_change.C {
            var e = Pbft_view_change.C()
            e.sequenceNumber = n
            e.id = "ID\(n)"
            return e
        }
        let vset = [viewChange(0, h: 47, [c(47)]), viewChange(1, h: 45, [c(45)]), viewChange(3, h: 45, cset)]
        XCTAssertEqual(ViewChangeRules.initialCheckpoint(vset, f: 1, quorum: 3)?.sequence, 47,
                       "vp0 and vp3 hold 47 and all three have h at or below it: a NEW-VIEW can start there")
    }
}
