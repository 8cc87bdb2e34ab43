import Foundation
import XCTest
@testable import Weft

/// Issue 21's open question on `overflow: reject`: a full inbound ring drops a
/// spread request and keeps the connection, so nothing resends it on reconnect.
/// On the seeded simulated network: replica 1's spread of one request is lost on
/// its way to the primary (and to backup 2), once, with no disconnect, while
/// replicas 2 and 3 keep the primary busy. The request must still be ordered,
/// and executed by its origin (whose host then answers its client), within the
/// bound that `watchOldestRequest` (RequestOrigins.swift) gives.
final class PBFTLostSpreadTests: XCTestCase {
    private func txids(_ net: SimulatedNetwork, _ r: Int) throws -> Set<String> {
        Set(try net.blocks[r].flatMap { try Protos_Block(serializedBytes: $0).transactions.map(\.txid) })
    }

    /// Lost to the primary: replicas 1, 2 and 3 hold it and start the view change
    /// together. Lost to the primary and backup 2: 1 and 3 start it, f + 1, and 0 and 2
    /// join. Lost to all three: 1 alone moves to view 1 (inactive) after its resend, which
    /// primary 0 orders in view 0; replica 1 gets that block by state transfer.
    func testASpreadLostWithoutADisconnectIsOrderedUnderContinuousLoad() throws {
        for lostTo: Set<UInt64> in [[0], [0, 2], [0, 2, 3]] {
            try assertOrderedWithinTheBound(lostTo: lostTo, seed: 21 + UInt64(lostTo.count))
        }
    }

    private func assertOrderedWithinTheBound(lostTo: Set<UInt64>, seed: UInt64) throws {
        let timeout = 30
        let o = PBFTOptions(n: 4, f: 1, batchSize: 4, requestTimeoutTicks: timeout, viewChangeTimeoutTicks: timeout)
        let net = SimulatedNetwork(options: o, seed: seed)
        // The first spread of replica 1 to each of `lostTo` is dropped (the receiver's ring was
        // full); every later message on those links arrives.
        var toDrop = lostTo
        net.requestsLost = { from, to in from == 1 && toDrop.remove(to) != nil }
        let submittedAt = net.ticks
        net.submit("lost", at: 1)
        // The bound: the request is the oldest outstanding at its origin (and at every
        // backup that holds it) within a few batch rounds; 8 request timeouts later the
        // origin spreads it again and they start a view change, which takes at most a
        // view-change timeout (doubled once) and a request timeout for the NEW-VIEW's
        // batches; the new primary holds the request.
        let starvation = 8 * timeout   // 8 x pbft.general.timeout.request (PROTOCOL.md sections 4 and 10)
        let bound = starvation + 4 * timeout + 2 * o.viewChangeTimeoutTicks
        var orderedAt: Int?
        // Continuous load from replicas 2 and 3: a transaction every two ticks, a batch
        // executing well within every request timeout (so the request timer never fires).
        for t in 0..<(2 * bound) where orderedAt == nil {
            net.submit("load\(t)", at: 2 + t % 2)
            net.run(steps: 2 * net.deliveriesPerTick)
            if try (0...3).allSatisfy({ try txids(net, $0).contains("lost") }) { orderedAt = net.ticks }
        }
        let views = net.replicas.map(\.view)
        let ordered = try XCTUnwrap(orderedAt, "lost to \(lostTo): never ordered in \(net.ticks - submittedAt) ticks; views \(views)")
        XCTAssertLessThanOrEqual(ordered - submittedAt, bound, "lost to \(lostTo): ordered, but past the bound; views \(views)")
        XCTAssertTrue(net.actionLog[1].contains("viewchange 0->1 requestStarved"), "the origin's starvation watch fired")
        // Its origin's chain holds it (executed, or fetched by state transfer when the origin
        // alone moved to view 1): its host answers the client from that block.
        XCTAssertTrue(try txids(net, 1).contains("lost"), "replica 1's chain holds its own request")
        XCTAssertNil(net.agreementProblem())
    }
}
