import CWeftLinux
import Foundation
import Glibc
@testable import Weft
import XCTest

/// The event loop's registrations: `(fd, generation)` in `epoll_data`, and
/// only the bits still registered, delivered — with real sockets, inside one
/// `epoll_wait` batch.
final class EventLoopTests: XCTestCase {
    final class Recorder: EventHandler {
        var calls: [UInt32] = []
        var onEvents: ((UInt32) -> Void)?
        func handleEvents(_ events: UInt32) {
            calls.append(events)
            onEvents?(events)
        }
    }

    private var toClose: [Int32] = []
    override func tearDown() {
        for fd in toClose { Glibc.close(fd) }
        toClose = []
    }

    /// A connected AF_UNIX pair, non-blocking; the far end is closed at tearDown.
    private func pair() throws -> (Int32, Int32) {
        let (near, far) = try TestSockets.pair()
        toClose += [far]
        return (near, far)
    }

    private func poke(_ fd: Int32) {
        var byte: UInt8 = 1
        XCTAssertEqual(write(fd, &byte, 1), 1)
    }

    /// Two readable connections in one batch: whichever handler runs first
    /// closes the other and accepts a new connection, which gets the closed
    /// descriptor's number. The closed one's event, still in the batch, must
    /// not reach the new connection's handler (it has nothing to read).
    func testStaleEventAfterDescriptorReuseInTheSameBatchIsDropped() throws {
        let loop = try EventLoop()
        let listener = try Sockets.listen(on: HostPort(host: "127.0.0.1", port: 0), options: SocketOptions()) { _ in }
        toClose.append(listener)
        let port = SocketAddress.local(of: listener)!.hostPort!
        let client = try port.resolve()[0].connectBlocking()             // waits in the backlog
        toClose.append(client)

        let (a, aPeer) = try pair(), (b, bPeer) = try pair()
        let ha = Recorder(), hb = Recorder(), hNew = Recorder()
        try loop.register(a, events: Readiness.readable, handler: ha)
        try loop.register(b, events: Readiness.readable, handler: hb)
        poke(aPeer)
        poke(bPeer)

        var reused: (closed: Int32, accepted: Int32)?
        func closeOtherAndAccept(_ other: Int32) throws {
            guard reused == nil else { return }
            loop.unregister(other)
            Glibc.close(other)
            var fd = cweft_accept(listener, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            guard fd >= 0 else { throw SystemError(call: "accept4", errno: errno) }
            if fd != other {     // another thread took the lowest number meanwhile: put it where the test needs it
                guard dup2(fd, other) == other else { throw SystemError(call: "dup2", errno: errno) }
                Glibc.close(fd)
                fd = other
            }
            toClose.append(fd)
            reused = (other, fd)
            try loop.register(fd, events: Readiness.readable, handler: hNew)
        }
        var failure: Error?
        ha.onEvents = { _ in do { try closeOtherAndAccept(b) } catch { failure = error } }
        hb.onEvents = { _ in do { try closeOtherAndAccept(a) } catch { failure = error } }

        loop.turn(maxWaitMillis: 1000)
        if let failure { throw failure }
        let (closed, accepted) = try XCTUnwrap(reused, "a handler ran")
        XCTAssertEqual(closed, accepted, "the accepted connection reuses the closed descriptor's number")
        XCTAssertEqual(ha.calls.count + hb.calls.count, 1, "the closed connection's event was not delivered to anyone")
        XCTAssertEqual(hNew.calls, [], "the new connection got no event (it has nothing to read)")

        // The new registration works: data on it is delivered.
        poke(client)
        loop.turn(maxWaitMillis: 1000)
        XCTAssertEqual(hNew.calls.count, 1)
        XCTAssertNotEqual((hNew.calls.first ?? 0) & Readiness.readable, 0)
    }

    /// Two readable connections in one batch: whichever handler runs first
    /// switches the other's events off (a paused reader). The other's event,
    /// still in the batch, is for bits no longer registered: not delivered.
    func testEventForBitsSwitchedOffEarlierInTheBatchIsDropped() throws {
        let loop = try EventLoop()
        let (a, aPeer) = try pair(), (b, bPeer) = try pair()
        toClose += [a, b]
        let ha = Recorder(), hb = Recorder()
        try loop.register(a, events: Readiness.readable, handler: ha)
        try loop.register(b, events: Readiness.readable, handler: hb)
        var paused = false
        ha.onEvents = { _ in if !paused { paused = true; loop.modify(b, events: 0) } }
        hb.onEvents = { _ in if !paused { paused = true; loop.modify(a, events: 0) } }
        poke(aPeer)
        poke(bPeer)
        loop.turn(maxWaitMillis: 1000)
        XCTAssertEqual(ha.calls.count + hb.calls.count, 1, "the paused one's event was dropped")

        // Turned back on, it is delivered (level-triggered: the byte is still there).
        loop.modify(a, events: Readiness.readable)
        loop.modify(b, events: Readiness.readable)
        loop.turn(maxWaitMillis: 1000)
        XCTAssertEqual(ha.calls.count + hb.calls.count, 3)
    }

    func testTimersRunInDeadlineOrderThenInsertionOrder() {
        var heap = TimerHeap()
        var order: [Int] = []
        for (i, deadline) in [30, 10, 20, 10, 5].enumerated() {
            heap.insert(deadline: UInt64(deadline)) { order.append(i) }
        }
        XCTAssertEqual(heap.nextDeadline, 5)
        XCTAssertNil(heap.popDue(now: 4), "nothing due before the first deadline")
        while let action = heap.popDue(now: 25) { action() }
        XCTAssertEqual(order, [4, 1, 3, 2], "5, then the two 10s in insertion order, then 20")
        XCTAssertEqual(heap.nextDeadline, 30)
        while let action = heap.popDue(now: 100) { action() }
        XCTAssertEqual(order, [4, 1, 3, 2, 0])
        XCTAssertNil(heap.nextDeadline)
    }

    func testTimerHeapKeepsOrderUnderManyInsertions() {
        var heap = TimerHeap()
        var popped: [UInt64] = []
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let d = UInt64.random(in: 0..<500, using: &rng)
            heap.insert(deadline: d) { popped.append(d) }
        }
        while let action = heap.popDue(now: .max) { action() }
        XCTAssertEqual(popped.count, 2000)
        XCTAssertEqual(popped, popped.sorted())
    }
}
