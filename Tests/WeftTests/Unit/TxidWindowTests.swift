import XCTest
@testable import Weft

/// The txid window (issue 24): a ring of digests and an open-addressing table
/// of ring positions. It must answer exactly as the chain's last `capacity`
/// txids would, through wrap-around, collisions, removals and growth.
final class TxidWindowTests: XCTestCase {
    func testTheOldestLeavesWhenTheRingWrapsAround() {
        var window = TxidWindow(capacity: 4)
        for txid in ["a", "b", "c", "d"] { window.append(txid) }
        XCTAssertEqual(["a", "b", "c", "d"].map(window.contains), [true, true, true, true])
        window.append("b")
        XCTAssertEqual(window.count, 4, "a txid already in the window is not added again")
        XCTAssertTrue(window.contains("a"), "nor does it push the oldest out")
        for txid in ["e", "f", "g", "h", "i"] { window.append(txid) }
        XCTAssertEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i"].map(window.contains),
                       [false, false, false, false, false, true, true, true, true], "twice around: the last four")
        window.append("a")
        XCTAssertEqual(["a", "f", "g"].map(window.contains), [true, false, true], "an evicted txid comes back and pushes out the oldest")
        XCTAssertEqual(window.count, 4)
    }

    func testAWindowOfOneHoldsTheLastTxid() {
        var window = TxidWindow(capacity: 1)
        XCTAssertFalse(window.contains("a"))
        window.append("a"); window.append("b"); window.append("a")
        XCTAssertEqual(["a", "b"].map(window.contains), [true, false])
        XCTAssertEqual(window.count, 1)
    }

    /// Small windows over a small pool of txids, so the table is full of runs
    /// that share slots: every lookup probes, every eviction shifts entries
    /// back. Compared step by step with a plain model (an array in chain order).
    func testSeededRandomOperationsAnswerAsTheLastCapacityTxids() {
        for (capacity, poolSize, seed) in [(1, 4, 1), (2, 5, 2), (7, 20, 3), (64, 150, 4), (500, 900, 5)] as [(Int, Int, UInt64)] {
            checkAgainstAModel(TxidWindow(capacity: capacity), poolSize: poolSize, seed: seed)
        }
    }

    /// The same with one or two bits left for an entry's distance from home, so
    /// many entries are stored as "far" and their distance is worked out from
    /// the ring (with 20 bits of position for a million, only past 4,095 steps).
    func testEntriesTooFarForTheirSlotsBitsAreFoundAndShifted() {
        for (capacity, poolSize, seed, bits) in [(64, 150, 6, 31), (500, 900, 7, 31), (500, 900, 8, 30)] as [(Int, Int, UInt64, Int)] {
            checkAgainstAModel(TxidWindow(capacity: capacity, indexPositionBits: bits), poolSize: poolSize, seed: seed)
        }
    }

    private func checkAgainstAModel(_ empty: TxidWindow, poolSize: Int, seed: UInt64) {
        let capacity = empty.capacity
        let pool = (0..<poolSize).map { TxidDigest("txid-\(seed)-\($0)") }
        var rng = SplitMix64(seed: seed)
        var window = empty
        var model: [Int] = []  // pool indexes in chain order, the oldest first
        var inModel = [Bool](repeating: false, count: poolSize)
        for step in 0..<60_000 {
            let pick = rng.below(poolSize)
            XCTAssertEqual(window.contains(pool[pick]), inModel[pick], "capacity \(capacity), step \(step)")
            if rng.chance(0.7) {
                window.append(pool[pick])
                if !inModel[pick] {
                    if model.count == capacity { inModel[model.removeFirst()] = false }
                    model.append(pick)
                    inModel[pick] = true
                }
            }
            XCTAssertEqual(window.count, model.count)
            XCTAssertGreaterThanOrEqual(window.indexSlots, 2 * window.count, "at most half full")
            if step % 5_000 == 0 {
                XCTAssertEqual(pool.map(window.contains), inModel, "every txid, capacity \(capacity), step \(step)")
            }
        }
        XCTAssertEqual(pool.map(window.contains), inModel, "every txid at the end, capacity \(capacity)")
    }

    /// BlockAssembler is a struct and replicas are copied in tests: a copy
    /// keeps its own window however the original changes afterwards.
    func testACopyDoesNotChangeWithTheOriginal() {
        var original = TxidWindow(capacity: 100, chainOrder: (0..<60).map { "t\($0)" })
        let copy = original
        for i in 60..<400 { original.append("t\(i)") }
        XCTAssertEqual(copy.count, 60)
        XCTAssertTrue((0..<60).allSatisfy { copy.contains("t\($0)") })
        XCTAssertFalse((60..<400).contains { copy.contains("t\($0)") })
        XCTAssertEqual(original.count, 100)
        XCTAssertTrue((300..<400).allSatisfy { original.contains("t\($0)") })
        XCTAssertFalse((0..<300).contains { original.contains("t\($0)") })
    }

    /// A window of a million holding a few txids takes a few hundred bytes
    /// (the simulator makes one per replica); storage grows with the window
    /// and ends at 24 bytes an entry when full.
    func testStorageGrowsWithTheWindowUpToTwentyFourBytesAnEntry() {
        var large = TxidWindow(capacity: 1_000_000)
        XCTAssertEqual(large.storageBytes, 0)
        for i in 0..<10 { large.append("tx-\(i)") }
        XCTAssertLessThan(large.storageBytes, 1_024)

        let capacity = 50_000
        var window = TxidWindow(capacity: capacity)
        var slots: [Int] = []
        for i in 0..<(capacity + 10_000) {
            window.append("tx-\(i)")
            if slots.last != window.indexSlots { slots.append(window.indexSlots) }
        }
        XCTAssertEqual(slots, [16, 32, 64, 128, 256, 512, 1_024, 2_048, 4_096, 8_192, 16_384, 32_768, 65_536, 100_000],
                       "doubled as it fills, up to twice the capacity")
        XCTAssertEqual(window.count, capacity)
        let perEntry = Double(window.storageBytes) / Double(capacity)
        XCTAssertGreaterThanOrEqual(perEntry, 24)
        XCTAssertLessThan(perEntry, 24.2, "16 bytes of ring and 8 of index, whatever the allocator rounds")
        XCTAssertFalse(window.contains("tx-9999"))
        XCTAssertTrue(window.contains("tx-10000") && window.contains("tx-59999"))
    }
}
