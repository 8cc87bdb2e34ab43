import Foundation
import XCTest
@testable import Weft

/// One replica fed hand-made messages: quorums, refusals, ordering.
final class PBFTNormalCaseTests: XCTestCase {
    func testOptionsQuorumAndValidation() throws {
        XCTAssertEqual(PBFTOptions(n: 4, f: 1).quorum, 3)
        XCTAssertEqual(PBFTOptions(n: 7, f: 2).quorum, 5)
        XCTAssertEqual(PBFTOptions(n: 5, f: 1).quorum, 4)
        XCTAssertEqual(PBFTOptions(n: 4, f: 1).logSize, 40)
        XCTAssertNoThrow(try PBFTOptions(n: 4, f: 1).validate())
        XCTAssertThrowsError(try PBFTOptions(n: 3, f: 1).validate()) { error in
            XCTAssertTrue("\(error)".contains("pbft.general.N"), "\(error)")
        }
        XCTAssertThrowsError(try PBFTOptions.validate(PBFTOptions(n: 4, f: 1, k: 0))) { error in
            XCTAssertTrue("\(error)".contains("pbft.general.K"), "\(error)")
        }
        XCTAssertThrowsError(try PBFTOptions(n: 4, f: 1, batchSize: 0).validate())
    }

    func testDigestIsBase64OfSHAKE256() throws {
        let b = PBFTMake.batch("a", "b")
        let d = PBFTDigest.of(b)
        XCTAssertEqual(Data(base64Encoded: d)?.count, 64)
        XCTAssertEqual(d, PBFTDigest.of(b))
        XCTAssertNotEqual(d, PBFTDigest.of(PBFTMake.batch("a", "c")))
    }

    /// A backup: quorum-2 prepares from others (+ its own) do not prepare; quorum-1 do.
    /// quorum-1 commits do not commit; quorum do. Prepares from the primary and repeats never count.
    private func quorumEdges(n: Int, f: Int) {
        let o = PBFTOptions(n: n, f: f)
        let q = o.quorum
        let r = PBFTReplica(id: 1, options: o)
        let batch = PBFTMake.batch("tx")
        let d = PBFTDigest.of(batch)
        r.receive(PBFTMake.prePrepare(n: 1, batch: batch), from: 0)
        XCTAssertEqual(r.takeActions().broadcastPrepares.count, 1, "N=\(n): a backup prepares an accepted pre-prepare")
        // The primary's prepare and repeated prepares do not count.
        r.receive(PBFTMake.prepare(n: 1, digest: d, replica: 0), from: 0)
        let others: [UInt64] = Array(2..<UInt64(n))
        // Own prepare counts; feed quorum-3 others: total quorum-2 → not prepared.
        for k in 0..<(q - 3) {
            r.receive(PBFTMake.prepare(n: 1, digest: d, replica: others[k]), from: others[k])
            r.receive(PBFTMake.prepare(n: 1, digest: d, replica: others[k]), from: others[k])
        }
        // A prepare for another digest does not count either.
        r.receive(PBFTMake.prepare(n: 1, digest: "other", replica: others[q - 3]), from: others[q - 3])
        XCTAssertTrue(r.takeActions().broadcastCommits.isEmpty, "N=\(n): quorum-2 prepares must not prepare")
        XCTAssertFalse(r.isPrepared(view: 0, sequence: 1))
        r.receive(PBFTMake.prepare(n: 1, digest: d, replica: others[q - 2]), from: others[q - 2])
        XCTAssertEqual(r.takeActions().broadcastCommits.count, 1, "N=\(n): quorum-1 prepares prepare")
        // Own commit counts; quorum-2 others → quorum-1 commits: nothing executes.
        for k in 0..<(q - 2) {
            r.receive(PBFTMake.commit(n: 1, digest: d, replica: others[k]), from: others[k])
            r.receive(PBFTMake.commit(n: 1, digest: d, replica: others[k]), from: others[k])
        }
        XCTAssertEqual(r.takeActions().executed, [], "N=\(n): quorum-1 commits must not commit")
        r.receive(PBFTMake.commit(n: 1, digest: d, replica: 0), from: 0)
        let actions = r.takeActions()
        XCTAssertEqual(actions.executed, [1], "N=\(n): quorum commits commit")
        r.executed(sequence: 1, checkpointID: "x")
        XCTAssertEqual(r.lastExecuted, 1)
        XCTAssertEqual(r.counters.batchesExecuted, 1)
    }

    func testQuorumEdgesN4() { quorumEdges(n: 4, f: 1) }
    func testQuorumEdgesN7() { quorumEdges(n: 7, f: 2) }

    /// The primary prepares with quorum-1 prepares from others (it sends none itself).
    func testPrimaryPreparesWithQuorumMinusOneBackups() {
        let o = PBFTOptions(n: 7, f: 2, batchSize: 1)
        let r = PBFTReplica(id: 0, options: o)
        r.receiveRequest(PBFTMake.request("a", replica: 3))
        let pps = r.takeActions().broadcastPrePrepares
        XCTAssertEqual(pps.count, 1)
        XCTAssertEqual(r.counters.batchesProposed, 1)
        let d = pps[0].batchDigest
        for k in 1...3 { r.receive(PBFTMake.prepare(n: 1, digest: d, replica: UInt64(k)), from: UInt64(k)) }
        XCTAssertTrue(r.takeActions().broadcastCommits.isEmpty)
        r.receive(PBFTMake.prepare(n: 1, digest: d, replica: 4), from: 4)
        XCTAssertEqual(r.takeActions().broadcastCommits.count, 1)
    }

    func testPrePrepareRefusals() {
        let o = PBFTOptions(n: 4, f: 1)
        let r = PBFTReplica(id: 1, options: o)
        let b = PBFTMake.batch("a")
        // From a backup, in the current view.
        r.receive(PBFTMake.prePrepare(n: 1, batch: b, replica: 2), from: 2)
        XCTAssertEqual(r.counters.droppedNotFromPrimary, 1)
        // Outside (h, h+L]: 0 and L+1.
        r.receive(PBFTMake.prePrepare(n: 0, batch: b), from: 0)
        r.receive(PBFTMake.prePrepare(n: o.logSize + 1, batch: b), from: 0)
        XCTAssertEqual(r.counters.droppedOutsideWatermarks, 2)
        // The last sequence number of the window is fine.
        r.receive(PBFTMake.prePrepare(n: o.logSize, batch: PBFTMake.batch("edge")), from: 0)
        XCTAssertEqual(r.takeActions().broadcastPrepares.map(\.sequenceNumber), [o.logSize])
        // A digest that is not the batch's.
        r.receive(PBFTMake.prePrepare(n: 1, batch: b, digest: PBFTDigest.of(PBFTMake.batch("zzz"))), from: 0)
        XCTAssertEqual(r.counters.droppedBadDigest, 1)
        // Another view.
        // (Both from replica 0: one replica in later views is no reason to follow it.)
        r.receive(PBFTMake.prePrepare(view: 4, n: 1, batch: b, replica: 0), from: 0)
        r.receive(PBFTMake.prePrepare(view: 8, n: 1, batch: b, replica: 0), from: 0)
        XCTAssertEqual(r.counters.droppedWrongView, 2)
        XCTAssertTrue(r.takeActions().broadcastPrepares.isEmpty, "nothing refused was prepared")
        // Accepted; the same pre-prepare again is a harmless repeat.
        r.receive(PBFTMake.prePrepare(n: 1, batch: b), from: 0)
        XCTAssertEqual(r.takeActions().broadcastPrepares.count, 1)
        r.receive(PBFTMake.prePrepare(n: 1, batch: b), from: 0)
        XCTAssertTrue(r.takeActions().isEmpty)
        // A second digest for the same (view, n): refused, and the primary is suspected.
        r.receive(PBFTMake.prePrepare(n: 1, batch: PBFTMake.batch("b")), from: 0)
        XCTAssertEqual(r.counters.droppedConflictingDigest, 1)
        let actions = r.takeActions()
        XCTAssertTrue(actions.broadcastPrepares.isEmpty)
        XCTAssertEqual(actions.viewChangesStarted.map(\.to), [1])
        XCTAssertEqual(actions.viewChangesStarted.first?.reason, .conflictingPrePrepare)
        XCTAssertEqual(r.counters.droppedNotFromPrimary, 1)
        XCTAssertEqual(r.counters.droppedOutsideWatermarks, 2)
        XCTAssertEqual(r.counters.droppedBadDigest, 1)
        XCTAssertEqual(r.counters.droppedWrongView, 2)
        XCTAssertEqual(r.counters.droppedWrongSender, 0)
    }

    func testWrongInnerReplicaIDIsDropped() {
        let r = PBFTReplica(id: 1, options: PBFTOptions(n: 4, f: 1))
        let b = PBFTMake.batch("a")
        let d = PBFTDigest.of(b)
        r.receive(PBFTMake.prePrepare(n: 1, batch: b, replica: 0), from: 2)
        r.receive(PBFTMake.prepare(n: 1, digest: d, replica: 3), from: 2)
        r.receive(PBFTMake.commit(n: 1, digest: d, replica: 3), from: 2)
        r.receive(PBFTMake.checkpoint(n: 10, id: "x", replica: 0), from: 3)
        r.receive(PBFTMake.prepare(n: 1, digest: d, replica: 9), from: 9)  // no such replica
        XCTAssertEqual(r.counters.droppedWrongSender, 5)
        XCTAssertTrue(r.takeActions().isEmpty)
        XCTAssertEqual(r.log.count, 0)
    }

    func testPrepareAndCommitOutsideWindowOrViewAreCounted() {
        let r = PBFTReplica(id: 1, options: PBFTOptions(n: 4, f: 1))
        r.receive(PBFTMake.prepare(n: 41, digest: "d", replica: 2), from: 2)
        r.receive(PBFTMake.commit(n: 0, digest: "d", replica: 2), from: 2)
        r.receive(PBFTMake.prepare(view: 2, n: 1, digest: "d", replica: 2), from: 2)
        r.receive(PBFTMake.commit(view: 2, n: 1, digest: "d", replica: 2), from: 2)
        XCTAssertEqual(r.counters.droppedOutsideWatermarks, 2)
        XCTAssertEqual(r.counters.droppedWrongView, 2)
        XCTAssertEqual(r.log.count, 0)
    }

    /// Messages in any order: prepares and commits before their pre-prepare, and
    /// sequence 2 committed before 1: nothing executes until 1 does, then 1, 2.
    func testExecutionIsInOrderAndNeverSkips() {
        let r = PBFTReplica(id: 1, options: PBFTOptions(n: 4, f: 1))
        let b1 = PBFTMake.batch("one"), b2 = PBFTMake.batch("two"), b3 = PBFTMake.batch("three")
        let d1 = PBFTDigest.of(b1), d2 = PBFTDigest.of(b2), d3 = PBFTDigest.of(b3)
        for (n, d) in [(UInt64(3), d3), (2, d2)] {
            for k: UInt64 in [2, 3] { r.receive(PBFTMake.prepare(n: n, digest: d, replica: k), from: k) }
            for k: UInt64 in [0, 2, 3] { r.receive(PBFTMake.commit(n: n, digest: d, replica: k), from: k) }
        }
        r.receive(PBFTMake.prePrepare(n: 3, batch: b3), from: 0)
        r.receive(PBFTMake.prePrepare(n: 2, batch: b2), from: 0)
        var actions = r.takeActions()
        XCTAssertEqual(actions.broadcastCommits.map(\.sequenceNumber), [3, 2], "early prepares counted once the pre-prepare came")
        XCTAssertEqual(actions.executed, [], "2 and 3 wait for 1")
        r.receive(PBFTMake.prePrepare(n: 1, batch: b1), from: 0)
        for k: UInt64 in [2, 3] { r.receive(PBFTMake.prepare(n: 1, digest: d1, replica: k), from: k) }
        for k: UInt64 in [0, 2] { r.receive(PBFTMake.commit(n: 1, digest: d1, replica: k), from: k) }
        actions = r.takeActions()
        XCTAssertEqual(actions.executed, [1, 2, 3])
        let completed = actions.compactMap { if case .requestsCompleted(let k) = $0 { return k } else { return nil } }
        XCTAssertEqual(completed.count, 0, "none of these requests was outstanding here")
        // `executed` out of order is ignored.
        r.executed(sequence: 2, checkpointID: "x")
        XCTAssertEqual(r.lastExecuted, 0)
        for s: UInt64 in 1...3 { r.executed(sequence: s, checkpointID: "x") }
        XCTAssertEqual(r.lastExecuted, 3)
    }

    func testCheckpointStableAtQuorumIncludingOwn() {
        let o = PBFTOptions(n: 4, f: 1, k: 2)
        let r = PBFTReplica(id: 1, options: o)
        PBFTMake.commitAtBackup(r, sequences: 1...2)
        XCTAssertEqual(r.takeActions().executed, [1, 2])
        // Two others agree on checkpoint 2 before this replica has it: not stable yet.
        r.receive(PBFTMake.checkpoint(n: 2, id: "S2", replica: 0), from: 0)
        r.receive(PBFTMake.checkpoint(n: 2, id: "S2", replica: 3), from: 3)
        r.receive(PBFTMake.checkpoint(n: 2, id: "other", replica: 2), from: 2)
        XCTAssertEqual(r.lowWatermark, 0)
        r.executed(sequence: 1, checkpointID: "S1")
        r.executed(sequence: 2, checkpointID: "S2")
        XCTAssertEqual(r.takeActions().broadcastCheckpoints.map(\.sequenceNumber), [2])
        XCTAssertEqual(r.lowWatermark, 2)
        XCTAssertEqual(r.counters.checkpointsStable, 1)
        XCTAssertEqual(r.log.count, 0, "entries at or below h are gone")
        XCTAssertEqual(r.checkpoints.count, 0)
    }

    func testDuplicateRequestsAreDroppedAndCounted() {
        let r = PBFTReplica(id: 0, options: PBFTOptions(n: 4, f: 1, batchSize: 2))
        let a = PBFTMake.request("a", replica: 2, seconds: 5)
        r.receiveRequest(a)
        r.receiveRequest(a)
        XCTAssertEqual(r.counters.droppedDuplicateRequest, 1)
        XCTAssertEqual(r.outstandingCount, 1)
        r.receiveRequest(PBFTMake.request("b", replica: 2, seconds: 6))
        let pp = r.takeActions().broadcastPrePrepares
        XCTAssertEqual(pp.count, 1)
        XCTAssertEqual(pp.first?.requestBatch.batch.count, 2)
        let d = pp[0].batchDigest
        for k: UInt64 in [1, 2] { r.receive(PBFTMake.prepare(n: 1, digest: d, replica: k), from: k) }
        for k: UInt64 in [1, 2] { r.receive(PBFTMake.commit(n: 1, digest: d, replica: k), from: k) }
        let actions = r.takeActions()
        XCTAssertEqual(actions.executed, [1])
        let completed = actions.compactMap { if case .requestsCompleted(let k) = $0 { return k } else { return nil } }
        XCTAssertEqual(completed, [[RequestKey(replica: 2, seconds: 5, nanos: 0), RequestKey(replica: 2, seconds: 6, nanos: 0)]])
        XCTAssertEqual(r.outstandingCount, 0)
        // Re-sent after execution, and an older one from the same replica: already done.
        r.receiveRequest(a)
        r.receiveRequest(PBFTMake.request("old", replica: 2, seconds: 4))
        XCTAssertEqual(r.counters.droppedDuplicateRequest, 3)
        XCTAssertEqual(r.outstandingCount, 0)
        // Another replica's request with the same timestamp is new.
        r.receiveRequest(PBFTMake.request("c", replica: 3, seconds: 5))
        XCTAssertEqual(r.outstandingCount, 1)
    }

    /// The batch timer cuts a partial batch; the batch-size rule cuts a full one at once.
    func testBatchTimerAndBatchSize() {
        let r = PBFTReplica(id: 0, options: PBFTOptions(n: 4, f: 1, batchSize: 3, batchTimeoutTicks: 3, requestTimeoutTicks: 100))
        r.receiveRequest(PBFTMake.request("a", replica: 0, seconds: 1))
        r.tick(); r.receiveRequest(PBFTMake.request("b", replica: 0, seconds: 2)); r.tick()
        XCTAssertTrue(r.takeActions().broadcastPrePrepares.isEmpty)
        r.tick()
        XCTAssertEqual(r.takeActions().broadcastPrePrepares.map { $0.requestBatch.batch.count }, [2])
        for s: Int64 in 3...5 { r.receiveRequest(PBFTMake.request("x\(s)", replica: 0, seconds: s)) }
        XCTAssertEqual(r.takeActions().broadcastPrePrepares.map { $0.requestBatch.batch.count }, [3])
        // A pending request is never batched again.
        r.tick(); r.tick(); r.tick(); r.tick()
        XCTAssertTrue(r.takeActions().broadcastPrePrepares.isEmpty)
    }

    func testBlockAssemblerSkipsDuplicatesAndMalformed() {
        var a = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 1_000, chainOrder: ["old"]))
        var bad = Pbft_request()
        bad.replicaID = 3
        bad.payload = Data([0xff, 0xff, 0xff])
        let batch = PBFTMake.batch([
            PBFTMake.request("t1", replica: 1, seconds: 7),
            PBFTMake.request("old", replica: 1, seconds: 8),
            PBFTMake.request("t1", replica: 2, seconds: 9),
            bad,
            PBFTMake.request("t2", replica: 0, seconds: 3),
        ])
        let b0 = a.assemble(sequence: 1, batch: batch)
        XCTAssertEqual(b0.number, 0)
        XCTAssertEqual(b0.included.map(\.txid), ["t1", "t2"])
        XCTAssertEqual(b0.duplicates.map(\.txid), ["old", "t1"])
        XCTAssertEqual(b0.duplicates.map(\.key.replica), [1, 2])
        XCTAssertTrue(b0.stale.isEmpty)
        XCTAssertEqual(b0.malformed, [RequestKey(replica: 3, seconds: 0, nanos: 0)])
        XCTAssertEqual(b0.hash, SHA256.hash(b0.bytes))
        let block = try! Protos_Block(serializedBytes: b0.bytes)
        XCTAssertEqual(block.transactions.map(\.txid), ["t1", "t2"])
        XCTAssertEqual(block.previousBlockHash, Data())
        XCTAssertEqual(block.timestamp.seconds, 9, "the latest request timestamp")
        XCTAssertEqual(try! Pbft_metadata(serializedBytes: block.consensusMetadata).seqNo, 1)
        let b1 = a.assemble(sequence: 2, batch: PBFTMake.batch([PBFTMake.request("t3", seconds: 10)]))
        XCTAssertEqual(b1.number, 1)
        XCTAssertEqual(try! Protos_Block(serializedBytes: b1.bytes).previousBlockHash, Data(b0.hash))
        let info = try! Protos_BlockchainInfo(serializedBytes: Data(base64Encoded: a.checkpointID)!)
        XCTAssertEqual(info.height, 2)
        XCTAssertEqual(info.currentBlockHash, Data(b1.hash))
        XCTAssertEqual(info.previousBlockHash, Data(b0.hash))
        // The same batches from the same start: the same bytes.
        var again = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 1_000, chainOrder: ["old"]))
        XCTAssertEqual(again.assemble(sequence: 1, batch: batch).bytes, b0.bytes)
    }
}

extension PBFTNormalCaseTests {
    /// `pbft.general.txidwindow`: duplicates are looked for among the chain's
    /// last transactions only, so memory stays bounded; a txid that left the
    /// window is ordered again. Rebuilt from the chain in order (a restart),
    /// the window is the one the running replica had: the same blocks follow.
    func testTheTxidWindowKeepsTheChainsLastTransactions() {
        var window = TxidWindow(capacity: 3)
        for txid in ["a", "b", "c", "d"] { window.append(txid) }
        XCTAssertEqual(window.count, 3)
        XCTAssertFalse(window.contains("a"), "the oldest left")
        XCTAssertTrue(window.contains("b") && window.contains("c") && window.contains("d"))
        window.append("e"); window.append("f")
        XCTAssertEqual(["b", "c", "d", "e", "f"].map(window.contains), [false, false, true, true, true], "a ring: it goes on turning")

        var running = BlockAssembler(height: 0, lastHash: [], recentTxids: TxidWindow(capacity: 3))
        var chain: [String] = []
        for (i, txid) in ["t1", "t2", "t3", "t4"].enumerated() {
            let block = running.assemble(sequence: UInt64(i + 1), batch: PBFTMake.batch([PBFTMake.request(txid, seconds: Int64(i))]))
            chain += block.included.map(\.txid)
        }
        // A restart: the window from the chain, in order.
        var restarted = BlockAssembler(height: running.height, lastHash: running.lastHash,
                                       recentTxids: TxidWindow(capacity: 3, chainOrder: chain), previousHash: running.previousHash)
        let next = PBFTMake.batch([PBFTMake.request("t2", seconds: 10), PBFTMake.request("t1", seconds: 11)])
        let a = running.assemble(sequence: 5, batch: next)
        let b = restarted.assemble(sequence: 5, batch: next)
        XCTAssertEqual(a.duplicates.map(\.txid), ["t2"], "t2 is among the last three")
        XCTAssertEqual(a.included.map(\.txid), ["t1"], "t1 left the window: ordered again")
        XCTAssertEqual(a.bytes, b.bytes, "the restarted replica makes the same block")
    }

    /// NEW-VIEW's xset is a map: encoded in key order whatever the dictionary's order.
    func testEncodingIsDeterministicForMaps() {
        var a = Pbft_new_view(), b = Pbft_new_view()
        a.view = 3; b.view = 3
        for n in UInt64(1)...50 { a.xset[n] = "d\(n)" }
        for n in (UInt64(1)...50).reversed() { b.xset[n] = "d\(n)" }
        let bytes = PBFTEncoding.bytes(a)
        XCTAssertEqual(bytes, PBFTEncoding.bytes(b))
        XCTAssertEqual(try Pbft_new_view(serializedBytes: bytes), a)
        // Entries appear in ascending key order: the first map entry is key 1.
        let firstEntry = bytes.firstIndex(of: 0x1a)!  // field 3, length-delimited
        XCTAssertEqual(Array(bytes[(firstEntry + 2)...(firstEntry + 3)]), [0x08, 0x01])
    }
}
