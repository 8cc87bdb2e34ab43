@testable import Weft
import XCTest

/// The peer layer's sessions, on their own: a session per connection slot,
/// valid only for its generation, and the established ones by name.
final class PeerSessionsTests: XCTestCase {
    private func connection(_ slot: UInt32, generation: UInt32 = 1) -> Connection {
        Connection(fd: -1, handle: ConnectionHandle(slot: slot, generation: generation), direction: .inbound, state: .open,
                   remoteAddress: "test")
    }

    private func info(_ name: String, _ c: Connection) -> PeerInfo {
        PeerInfo(id: PeerID(name: name, handle: c.handle), address: "127.0.0.1:1", type: .validator)
    }

    func testAHelloMakesASessionEstablishedAndNamed() {
        let sessions = PeerSessions(slotCount: 4)
        let c = connection(2)
        XCTAssertEqual(sessions.session(c.handle).phase, .none)
        sessions.open(c, helloDeadline: 99)
        XCTAssertEqual(sessions.session(c.handle).phase, .awaitingHello)
        XCTAssertEqual(sessions.session(c.handle).helloDeadline, 99)
        XCTAssertFalse(sessions.isEstablished(c.handle))
        XCTAssertEqual(sessions.session(c.handle).displayName, "<no hello>")

        sessions.identify(c, as: info("vp2", c))
        XCTAssertFalse(sessions.isEstablished(c.handle), "identified, its own hello not out yet")
        XCTAssertEqual(sessions.name(of: c.handle), "vp2")
        sessions.establish(c, wallClock: 1234)
        XCTAssertTrue(sessions.isEstablished(c.handle))
        XCTAssertTrue(sessions.established(named: "vp2") === c)
        XCTAssertEqual(sessions.establishedCount, 1)
        XCTAssertEqual(sessions.session(c.handle).establishedWallClock, 1234)
        XCTAssertEqual(sessions.peerType(of: c.handle), .validator)
    }

    func testAStaleHandleNeverReachesTheSlotsNextConnection() {
        let sessions = PeerSessions(slotCount: 2)
        let old = connection(1, generation: 5)
        sessions.open(old, helloDeadline: 0)
        sessions.identify(old, as: info("vp2", old))
        sessions.establish(old, wallClock: 0)
        let ended = sessions.end(old)
        XCTAssertEqual(ended.phase, .established, "the session it had, for the close's log and discovery")
        XCTAssertNil(sessions.established(named: "vp2"), "ending leaves the by-name index")

        let next = connection(1, generation: 6)
        sessions.open(next, helloDeadline: 0)
        XCTAssertFalse(sessions.isEstablished(old.handle))
        XCTAssertNil(sessions.peer(of: old.handle))
        XCTAssertEqual(sessions.peerType(of: old.handle), .undefined)
        sessions.identify(old, as: info("vp9", old))          // a late word about the old connection changes nothing
        XCTAssertNil(sessions.peer(of: next.handle))
        XCTAssertEqual(sessions.session(next.handle).phase, .awaitingHello)
        XCTAssertEqual(sessions.end(old).phase, .none)
        XCTAssertEqual(sessions.session(next.handle).phase, .awaitingHello, "ending a stale handle keeps the live session")
    }

    func testLeavingEndsTheEstablishmentOnceAndOnlyOfTheOneInTheIndex() {
        let sessions = PeerSessions(slotCount: 4)
        let first = connection(0), second = connection(1)
        for c in [first, second] {
            sessions.open(c, helloDeadline: 0)
            sessions.identify(c, as: info("vp2", c))
        }
        XCTAssertNil(sessions.leave(second), "not established: nothing to leave")
        sessions.establish(first, wallClock: 0)
        XCTAssertNil(sessions.leave(second), "the other connection of the same name is not the established one")
        XCTAssertTrue(sessions.established(named: "vp2") === first)
        XCTAssertEqual(sessions.leave(first)?.name, "vp2")
        XCTAssertEqual(sessions.session(first.handle).phase, .left)
        XCTAssertFalse(sessions.isEstablished(first.handle))
        XCTAssertNil(sessions.leave(first), "leaving twice tells once")
        XCTAssertNil(sessions.established(named: "vp2"))
        sessions.establish(second, wallClock: 0)             // the name is free again
        XCTAssertTrue(sessions.established(named: "vp2") === second)
        XCTAssertEqual(sessions.end(first).phase, .left, "a goodbye's close ends a session that is no longer established")
        XCTAssertTrue(sessions.established(named: "vp2") === second, "and leaves the other one's name alone")
    }
}
