import Foundation
import XCTest
@testable import Weft

/// Whole networks of replicas on the seeded simulated network.
final class PBFTSimulationTests: XCTestCase {
    private func allExecuted(_ net: SimulatedNetwork, _ count: Int, among group: [Int]? = nil) -> () -> Bool {
        { (group ?? Array(0..<net.n)).allSatisfy { net.executions[$0].count >= count } }
    }

    /// Random orders, duplication, slow executors; every replica executes the
    /// same batches in the same order and the chains are byte-identical.
    private func runRandomized(seed: UInt64, n: Int, f: Int, transactions: Int) -> SimulatedNetwork {
        var choice = SplitMix64(seed: seed ^ 0xABCD)
        let o = PBFTOptions(n: n, f: f, k: 5, logMultiplier: 2, batchSize: 1 + choice.below(5), batchTimeoutTicks: 1 + choice.below(3),
                            requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: seed)
        net.duplicateProbability = 0.1
        net.asyncExecution = seed % 2 == 0
        net.deliveriesPerTick = 5 + choice.below(30)
        for t in 0..<transactions {
            // The same txid now and then enters at two replicas.
            let txid = t % 7 == 3 ? "tx\(t - 1)" : "tx\(t)"
            net.submit(txid, at: choice.below(n))
            net.run(steps: choice.below(40))
        }
        net.run(maxSteps: 400_000) { net.inFlight == 0 && (0..<n).allSatisfy { net.replicas[$0].outstandingCount == 0 } }
        return net
    }

    /// Seeds 1...20 by default; `WEFT_PBFT_SEEDS=FIRST-LAST` runs another range
    /// (a long sweep by hand: `WEFT_PBFT_SEEDS=1000-1999 swift test --filter ...`).
    static var seeds: ClosedRange<UInt64> {
        let text = ProcessInfo.processInfo.environment["WEFT_PBFT_SEEDS"] ?? ""
        let parts = text.split(separator: "-").compactMap { UInt64($0) }
        return parts.count == 2 && parts[0] <= parts[1] ? parts[0]...parts[1] : 1...20
    }

    func testRandomOrdersAndDuplicationAgreeOverSeeds() {
        for seed in Self.seeds {
            let (n, f) = seed % 4 == 0 ? (7, 2) : (4, 1)
            let net = runRandomized(seed: seed, n: n, f: f, transactions: 60)
            XCTAssertNil(net.agreementProblem(), "seed \(seed)")
            XCTAssertEqual(Set(net.executions.map(\.count)).count, 1, "seed \(seed): executions \(net.executions.map(\.count))")
            XCTAssertEqual(Set(net.heights).count, 1, "seed \(seed): heights \(net.heights)")
            XCTAssertEqual(Set(net.lastHashes).count, 1, "seed \(seed): last hashes differ")
            XCTAssertGreaterThan(net.heights[0], 0, "seed \(seed)")
            // Every distinct txid is in the chain once.
            var txids: [String] = []
            for bytes in net.blocks[0] { txids += try! Protos_Block(serializedBytes: bytes).transactions.map(\.txid) }
            XCTAssertEqual(txids.count, Set(txids).count, "seed \(seed): a txid twice in the chain")
            XCTAssertEqual(Set(txids).count, Set((0..<60).map { $0 % 7 == 3 ? "tx\($0 - 1)" : "tx\($0)" }).count, "seed \(seed)")
            for r in 0..<n {
                XCTAssertEqual(net.replicas[r].outstandingCount, 0, "seed \(seed) replica \(r)")
                XCTAssertGreaterThan(net.replicas[r].lowWatermark, 0, "seed \(seed) replica \(r): no stable checkpoint")
            }
        }
    }

    func testSameSeedSameTrace() {
        let a = runRandomized(seed: 42, n: 4, f: 1, transactions: 40)
        let b = runRandomized(seed: 42, n: 4, f: 1, transactions: 40)
        XCTAssertEqual(a.actionLog, b.actionLog)
        XCTAssertEqual(a.blocks, b.blocks)
        XCTAssertEqual(a.lastHashes, b.lastHashes)
        XCTAssertEqual(a.steps, b.steps)
        let c = runRandomized(seed: 43, n: 4, f: 1, transactions: 40)
        XCTAssertNotEqual(a.actionLog, c.actionLog, "another seed, another interleaving")
    }

    /// 500 batches: checkpoints become stable and nothing keyed by sequence number outgrows the window.
    func testCheckpointsBoundTheLogOverALongRun() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, logMultiplier: 4, batchSize: 1, batchTimeoutTicks: 1, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 7)
        var maxCerts = 0, maxCheckpoints = 0, maxBatches = 0
        for t in 0..<500 {
            net.submit("tx\(t)", at: t % 4)
            for _ in 0..<30 {
                net.step()
                for r in net.replicas {
                    maxCerts = max(maxCerts, r.log.count)
                    maxCheckpoints = max(maxCheckpoints, r.checkpoints.count)
                    maxBatches = max(maxBatches, r.log.batches.count)
                }
            }
        }
        XCTAssertTrue(net.run(maxSteps: 200_000, until: allExecuted(net, 500)), "executed \(net.executions.map(\.count))")
        XCTAssertNil(net.agreementProblem())
        XCTAssertLessThanOrEqual(maxCerts, Int(o.logSize))
        XCTAssertLessThanOrEqual(maxBatches, Int(o.logSize))
        XCTAssertLessThanOrEqual(maxCheckpoints, Int(o.logMultiplier) + 1)
        for r in net.replicas {
            XCTAssertGreaterThanOrEqual(r.lowWatermark, 490)
            XCTAssertGreaterThanOrEqual(r.counters.checkpointsStable, 49)
            XCTAssertEqual(r.counters.batchesExecuted, 500)
        }
        XCTAssertEqual(net.heights, [500, 500, 500, 500])
    }

    /// Two backups cut off: nothing commits, and the primary stops at h + L/2.
    func testPrimaryNeverAssignsBeyondHalfTheWindow() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, batchSize: 1, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 3)
        net.partition = [0, 0, 1, 1]
        for t in 0..<60 { net.submit("tx\(t)", at: 0) }
        net.run(steps: 20_000)
        XCTAssertEqual(net.replicas[0].counters.batchesProposed, 20)
        XCTAssertEqual(net.replicas[0].seqNo, o.logSize / 2)
        XCTAssertEqual(net.executions.map(\.count), [0, 0, 0, 0])
        XCTAssertEqual(net.replicas[0].outstandingCount, 60)
    }

    /// Checkpoints lost: batches execute up to h + L/2 and stop there (no checkpoint, no progress).
    func testLostCheckpointsStopThePrimaryAtHalfTheWindow() {
        let o = PBFTOptions(n: 4, f: 1, k: 10, batchSize: 1, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 4)
        net.outboundHook = { e in
            if case .pbft(let m) = e.payload, case .checkpoint = m.payload { return [] }
            return [e]
        }
        for t in 0..<60 { net.submit("tx\(t)", at: t % 4) }
        net.run(steps: 20_000)
        XCTAssertEqual(net.executions.map(\.count), [20, 20, 20, 20])
        XCTAssertEqual(net.replicas.map(\.lowWatermark), [0, 0, 0, 0])
        XCTAssertEqual(net.replicas[0].counters.batchesProposed, 20)
    }

    /// The same request twice, and again after it executed: ordered once. The
    /// same txid through two replicas: one transaction, the other reported a duplicate.
    func testDuplicatesAreOrderedOnce() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 10, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 11)
        let r = net.submit("once", at: 1)
        net.submit(request: r, at: 1)
        net.runUntilQuiet()
        XCTAssertEqual(net.executions[0].count, 1)
        net.submit(request: r, at: 2)
        net.runUntilQuiet()
        XCTAssertEqual(net.executions.map(\.count), [1, 1, 1, 1], "a request re-sent after execution is not ordered again")
        XCTAssertGreaterThanOrEqual(net.replicas[0].counters.droppedDuplicateRequest, 2)
        net.submit("twice", at: 1)
        net.run(steps: 3)
        net.submit("twice", at: 3)
        net.runUntilQuiet()
        var txids: [String] = []
        for bytes in net.blocks[2] { txids += try! Protos_Block(serializedBytes: bytes).transactions.map(\.txid) }
        XCTAssertEqual(txids, ["once", "twice"])
        for d in net.duplicateTxids { XCTAssertEqual(d, ["twice"]) }
        XCTAssertNil(net.agreementProblem())
        XCTAssertEqual(Set(net.lastHashes).count, 1)
    }

    /// A request whose spread was lost (only its own replica holds it) is
    /// overtaken by a later one of the same replica: once the later one
    /// executes, every replica refuses the earlier timestamp, so as it was it
    /// could never be ordered — its replica's request timer would only start
    /// view change after view change. Every replica drops it from its pool
    /// instead, and its own replica spreads it again under a new timestamp:
    /// it is ordered, once, and nothing stays outstanding.
    func testARequestOvertakenByALaterOneOfItsReplicaIsStampedAnewAndOrderedOnce() throws {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 400)
        let net = SimulatedNetwork(options: o, seed: 21)
        net.submitUnspread("early", at: 1)
        net.submit("late", at: 1)
        XCTAssertTrue(net.runUntilQuiet(maxSteps: 50_000), "outstanding: \(net.replicas.map(\.outstandingCount))")
        for r in 0..<4 {
            var txids: [String] = []
            for bytes in net.blocks[r] { txids += try Protos_Block(serializedBytes: bytes).transactions.map(\.txid) }
            XCTAssertEqual(txids, ["late", "early"], "replica \(r)")
        }
        XCTAssertEqual(net.replicas.map(\.view), [0, 0, 0, 0], "no view change was needed")
        XCTAssertEqual(net.replicas.map(\.counters.overtakenRequests), [0, 1, 0, 0])
        XCTAssertNil(net.agreementProblem())
    }

    /// A faulty backup rewrites its prepares and commits to another digest, and
    /// prepares and commits batches nobody proposed: the honest replicas commit
    /// exactly what the primary proposed, and agree.
    func testFaultyBackupCannotMakeHonestReplicasCommitSomethingElse() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 2, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 5)
        let forged = PBFTDigest.of(PBFTMake.batch("forged"))
        net.outboundHook = { e in
            guard e.from == 3, case .pbft(let m) = e.payload else { return [e] }
            var out: [SimulatedNetwork.Envelope] = []
            switch m.payload {
            case .prepare(let p):
                out.append(.init(from: 3, to: e.to, payload: .pbft(PBFTMake.prepare(n: p.sequenceNumber, digest: forged, replica: 3))))
                out.append(.init(from: 3, to: e.to, payload: .pbft(PBFTMake.prepare(n: p.sequenceNumber + 1, digest: forged, replica: 3))))
            case .commit(let c):
                out.append(.init(from: 3, to: e.to, payload: .pbft(PBFTMake.commit(n: c.sequenceNumber, digest: forged, replica: 3))))
                out.append(.init(from: 3, to: e.to, payload: .pbft(PBFTMake.commit(n: c.sequenceNumber + 1, digest: forged, replica: 3))))
            default:
                out.append(e)
            }
            return out
        }
        // The faulty one also sends prepares and commits for a batch no one saw, to everyone, up front.
        for to: UInt64 in 0...2 {
            for k: UInt64 in 1...5 {
                net.inject(PBFTMake.prepare(n: k, digest: forged, replica: 3), from: 3, to: to)
                net.inject(PBFTMake.commit(n: k, digest: forged, replica: 3), from: 3, to: to)
            }
        }
        for t in 0..<20 { net.submit("tx\(t)", at: t % 3) }
        XCTAssertTrue(net.runUntilQuiet(among: [0, 1, 2]))
        let proposed = net.actionLog[0].filter { $0.hasPrefix("broadcast pp") }.map { $0.split(separator: " ")[4] }
        XCTAssertGreaterThanOrEqual(proposed.count, 10)
        for r in 0...2 {
            XCTAssertEqual(net.executions[r].map { String($0.digest.prefix(12)) }, proposed.map(String.init), "replica \(r) executes what the primary proposed")
        }
        for r in 0...2 {
            XCTAssertFalse(net.executions[r].contains { $0.digest == forged }, "replica \(r) executed the forged batch")
        }
        XCTAssertNil(net.agreementProblem(among: [0, 1, 2]))
        XCTAssertEqual(Set(net.lastHashes[0...2]).count, 1)
        XCTAssertEqual(net.heights[0], UInt64(proposed.count))
    }

    /// A primary that sends one batch to replica 1 and another to 2 and 3 for the
    /// same sequence number: no two honest replicas execute different batches there.
    func testEquivocatingPrimaryCannotSplitHonestReplicas() {
        let o = PBFTOptions(n: 4, f: 1, batchSize: 1, requestTimeoutTicks: 1_000_000)
        let net = SimulatedNetwork(options: o, seed: 9)
        let other = PBFTMake.batch([PBFTMake.request("evil", replica: 0, seconds: 99)])
        net.outboundHook = { e in
            guard e.from == 0, e.to == 1, case .pbft(let m) = e.payload, case .prePrepare(let p) = m.payload else { return [e] }
            return [.init(from: 0, to: 1, payload: .pbft(PBFTMake.prePrepare(view: p.view, n: p.sequenceNumber, batch: other)))]
        }
        for t in 0..<3 { net.submit("tx\(t)", at: 2) }
        net.run(steps: 20_000)
        XCTAssertNil(net.agreementProblem(among: [1, 2, 3]))
        XCTAssertTrue(net.executions[1].isEmpty, "replica 1 alone holds the other batch: it cannot prepare it")
        XCTAssertFalse(net.executions[2].isEmpty, "2, 3 and the primary still form a quorum")
    }
}
