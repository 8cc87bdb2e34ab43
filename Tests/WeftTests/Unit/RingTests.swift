import Foundation
import Weft
import XCTest

final class RingTests: XCTestCase {
    func testTenMillionThroughEightSlotsInOrder() {
        let ring = SPSCRing<Int>(capacity: 8)
        let total = 10_000_000
        let producer = Thread {
            var next = 0
            while next < total {
                if ring.push(next) { next += 1 }
            }
        }
        producer.start()
        var expected = 0
        var outOfOrder = 0
        while expected < total {
            if let value = ring.pop() {
                if value != expected { outOfOrder += 1 }
                expected += 1
            }
        }
        XCTAssertEqual(outOfOrder, 0, "every value arrives once, in order")
        XCTAssertNil(ring.pop(), "nothing extra")
        XCTAssertEqual(ring.count, 0)
    }

    func testFullAndEmptyEdges() {
        let ring = SPSCRing<String>(capacity: 4)
        XCTAssertNil(ring.pop())
        XCTAssertTrue(ring.isEmpty)
        for i in 0..<4 { XCTAssertTrue(ring.push("m\(i)")) }
        XCTAssertFalse(ring.hasRoom())
        XCTAssertFalse(ring.push("overflow"))
        XCTAssertEqual(ring.count, 4)
        XCTAssertEqual(ring.pop(), "m0")
        XCTAssertTrue(ring.push("m4"), "one slot freed, one push fits")
        XCTAssertEqual((0..<4).compactMap { _ in ring.pop() }, ["m1", "m2", "m3", "m4"])
        XCTAssertNil(ring.pop())
        // wrap-around many times
        for round in 0..<100 {
            XCTAssertTrue(ring.push("r\(round)"))
            XCTAssertEqual(ring.pop(), "r\(round)")
        }
    }

    func testCapacityRoundsUpToAPowerOfTwo() {
        XCTAssertEqual(SPSCRing<Int>(capacity: 1000).capacity, 1024)   // the buffersize default
        XCTAssertEqual(SPSCRing<Int>(capacity: 1).capacity, 1)
        XCTAssertEqual(SPSCRing<Int>(capacity: 3).capacity, 4)
        XCTAssertEqual(SPSCRing<Int>(capacity: 64).capacity, 64)
        let ring = SPSCRing<Int>(capacity: 5)
        var pushed = 0
        while ring.push(pushed) { pushed += 1 }
        XCTAssertEqual(pushed, 8)
    }

    func testElementsLeftInTheRingAreReleased() {
        final class Tracked { nonisolated(unsafe) static var live = 0; init() { Tracked.live += 1 }; deinit { Tracked.live -= 1 } }
        do {
            let ring = SPSCRing<Tracked>(capacity: 4)
            for _ in 0..<3 { _ = ring.push(Tracked()) }
            _ = ring.pop()
            XCTAssertEqual(Tracked.live, 2)
        }
        XCTAssertEqual(Tracked.live, 0)
    }
}
