import Foundation
import XCTest
@testable import Weft

/// A replica that learns it is behind (f+1 replicas checkpointed above its window)
/// moves its low watermark only to a checkpoint whose id it knows, the one it then
/// transfers to. Before, it moved h to the (f+1)-th highest sequence it had heard
/// of, with no id: it then held h with neither the state nor a C-set entry there,
/// could not ask for that state again after a restart, and its VIEW-CHANGE (h above
/// the checkpoint the others could agree on) made every NEW-VIEW impossible
/// (whole-host seed 1895).
final class PBFTBehindReplicaTests: XCTestCase {
    private let options = PBFTOptions(n: 4, f: 1, k: 8, logMultiplier: 2, requestTimeoutTicks: 74)

    private func transfers(_ actions: [PBFTAction]) -> [String] {
        actions.compactMap { a in
            if case .stateTransfer(let s, let checkpointID, let from) = a { return "\(s) \(checkpointID) \(from)" }
            return nil
        }
    }

    /// The stable records written (sequence and id), in order.
    private func stableRecords(_ actions: [PBFTAction]) -> [String] {
        actions.compactMap { a in
            if case .persist(let key, let value?) = a, key == PBFTPersistence.stableKey {
                return String(decoding: value, as: UTF8.self)
            }
            return nil
        }
    }

    /// Seed 1895's shape: 1 and 2 both checkpointed 16 (in the window, h 0, L 16), then went
    /// idle at different sequences (2 at 19, 1 at 20: above the window). The weak certificate
    /// at 16 is what to transfer to; the split above it gives no id to hold h at.
    func testABehindReplicaTransfersToTheWeakCertificateInItsWindowNotPastIt() {
        let r = PBFTReplica(id: 3, options: options)
        for k: UInt64 in [1, 2] { r.receive(PBFTMake.checkpoint(n: 16, id: "C16", replica: k), from: k) }
        r.receive(PBFTMake.checkpoint(n: 19, id: "C19", replica: 2), from: 2)
        r.receive(PBFTMake.checkpoint(n: 20, id: "C20", replica: 1), from: 1)
        let actions = r.takeActions()
        XCTAssertEqual(transfers(actions), ["16 C16 [1, 2]"])
        XCTAssertEqual(r.lowWatermark, 16)
        XCTAssertEqual(stableRecords(actions).last, "16 C16", "h is recorded with the id it can be fetched by")
    }

    /// Above the window only, with no two replicas agreeing: h stays where this replica's
    /// state is, and the checkpoints stay as evidence until a weak certificate forms.
    func testABehindReplicaNeverHoldsAWatermarkWithoutItsCheckpointID() {
        let r = PBFTReplica(id: 3, options: options)
        r.receive(PBFTMake.checkpoint(n: 19, id: "C19", replica: 2), from: 2)
        r.receive(PBFTMake.checkpoint(n: 20, id: "C20", replica: 1), from: 1)
        let before = r.takeActions()
        XCTAssertEqual(transfers(before), [])
        XCTAssertEqual(r.lowWatermark, 0, "no checkpoint with an id to stand on above 0")
        XCTAssertFalse(stableRecords(before).contains { !$0.hasPrefix("0 ") }, "\(stableRecords(before))")
        r.receive(PBFTMake.checkpoint(n: 20, id: "C20", replica: 2), from: 2)
        XCTAssertEqual(transfers(r.takeActions()), ["20 C20 [1, 2]"])
        XCTAssertEqual(r.lowWatermark, 20)
    }

    /// The whole-host seed that found it: every property holds.
    func testWholeHostSeed1895Converges() {
        let options = SimulationOptions(replicas: 4, steps: 2_000, quietTicks: 3_000)
        let report = Simulation.run(seed: 1895, options: options)
        XCTAssertEqual(report.violations.map(\.description), [],
                       "\(report.summary)\n\(report.traceTail.suffix(30).joined(separator: "\n"))")
    }
}
