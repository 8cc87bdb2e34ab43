import CWeftLinux
import Foundation
import Glibc
import Logging
@testable import Weft
import XCTest

/// The hello decision (a pure function), the link table, and the write
/// queue, each on its own.
final class HelloDecisionTests: XCTestCase {
    private let h1 = ConnectionHandle(slot: 1, generation: 7)

    private func decide(_ selfName: String = "vp1", claimed: String = "vp2", _ direction: Connection.Direction = .inbound,
                        existing: HelloDecision.Existing? = nil, identity: HelloDecision.Identity = .plain) -> HelloDecision.Verdict {
        HelloDecision.decide(selfName: selfName, claimed: claimed, direction: direction, existing: existing, identity: identity)
    }

    private func cause(_ verdict: HelloDecision.Verdict) -> CloseCause? {
        if case .refuse(let cause, _, _) = verdict { return cause }
        return nil
    }

    func testANewNameIsAccepted() {
        XCTAssertEqual(decide(), .accept)
        XCTAssertEqual(decide(identity: .certified), .accept)
        XCTAssertEqual(decide(identity: .unproven), .accept, "unproven names are let through (and logged by the node)")
    }

    func testOurOwnNameIsASelfConnection() {
        XCTAssertEqual(cause(decide("vp1", claimed: "vp1")), .selfConnection)
        guard case .refuse(_, let reason, _) = decide("vp1", claimed: "vp1", .outbound) else { return XCTFail() }
        XCTAssertEqual(reason, "self connection", "the DISC_DISCONNECT reason the dialer recognises")
    }

    func testACertificateThatDoesNotCarryTheNameIsRefusedFirst() {
        XCTAssertEqual(cause(decide(identity: .mismatched)), .certificateMismatch)
        XCTAssertEqual(cause(decide("vp1", claimed: "vp1", identity: .mismatched)), .certificateMismatch)
        XCTAssertEqual(cause(decide(existing: .init(handle: h1, direction: .outbound), identity: .mismatched)), .certificateMismatch)
    }

    /// Both ends decide alone and must agree: the connection dialed by the
    /// peer whose name sorts lower stays.
    func testCrossedDialsKeepTheConnectionDialedByTheLowerName() {
        // We are vp1 (lower): our outbound one stays.
        XCTAssertEqual(decide("vp1", claimed: "vp2", .inbound, existing: .init(handle: h1, direction: .outbound)).isRefusal, true)
        XCTAssertEqual(decide("vp1", claimed: "vp2", .outbound, existing: .init(handle: h1, direction: .inbound)), .replace(h1))
        // We are vp2 (higher): vp1 dialed the inbound one, which stays.
        XCTAssertEqual(decide("vp2", claimed: "vp1", .inbound, existing: .init(handle: h1, direction: .outbound)), .replace(h1))
        XCTAssertEqual(decide("vp2", claimed: "vp1", .outbound, existing: .init(handle: h1, direction: .inbound)).isRefusal, true)
        // Byte order, not locale order.
        XCTAssertEqual(decide("B", claimed: "a", .outbound, existing: .init(handle: h1, direction: .inbound)), .replace(h1))
    }

    func testTheSameDirectionTwiceKeepsTheExistingOne() {
        for direction in [Connection.Direction.inbound, .outbound] {
            for (me, them) in [("vp1", "vp2"), ("vp2", "vp1")] {
                XCTAssertEqual(cause(decide(me, claimed: them, direction, existing: .init(handle: h1, direction: direction))), .duplicate)
            }
        }
    }

    func testBothEndsOfACrossedPairAgree() {
        let names = ["a", "b", "vp0", "vp10", "vp9", "é", "Z"]
        for x in names {
            for y in names where x != y {
                // x's outbound is y's inbound and the other way round; each side holds one and hears about the other.
                let xKeepsItsOutbound = HelloDecision.keepsExisting(selfName: x, peerName: y, existing: .outbound, new: .inbound)
                let yKeepsItsInbound = HelloDecision.keepsExisting(selfName: y, peerName: x, existing: .inbound, new: .outbound)
                XCTAssertEqual(xKeepsItsOutbound, yKeepsItsInbound, "\(x) and \(y) keep the same TCP connection")
            }
        }
    }
}

private extension HelloDecision.Verdict {
    var isRefusal: Bool { if case .refuse = self { return true } else { return false } }
}

final class LinkTableTests: XCTestCase {
    private func connection(_ handle: ConnectionHandle) -> Connection {
        Connection(fd: -1, handle: handle, direction: .inbound, state: .open, remoteAddress: "test")
    }

    func testSlotsRunOutAndComeBackWithNewGenerations() throws {
        let table = LinkTable(capacity: 2)
        let a = try XCTUnwrap(table.reserve()), b = try XCTUnwrap(table.reserve())
        XCTAssertNil(table.reserve(), "full")
        XCTAssertEqual(table.openCount, 2)
        XCTAssertNotEqual(a.slot, b.slot)
        let ca = connection(a)
        table.insert(ca)
        XCTAssertTrue(table.connection(a) === ca)
        XCTAssertNil(table.connection(b), "reserved, not yet holding a connection")
        table.release(b)
        XCTAssertEqual(table.openCount, 1)
        table.remove(ca)
        XCTAssertEqual(table.openCount, 0)
        XCTAssertNil(table.connection(a))

        // The slot comes back under a new generation: the old handle names nothing.
        let again = try XCTUnwrap(table.reserve())
        let c2 = connection(again)
        table.insert(c2)
        if again.slot == a.slot {
            XCTAssertNotEqual(again.generation, a.generation)
            XCTAssertNil(table.connection(a), "a stale handle never reaches the slot's next connection")
        }
        XCTAssertTrue(table.connection(again) === c2)
        XCTAssertEqual(table.all.count, 1)
    }

    func testRemovingTwiceOrAStaleConnectionChangesNothing() throws {
        let table = LinkTable(capacity: 1)
        let h = try XCTUnwrap(table.reserve())
        let c = connection(h)
        table.insert(c)
        table.remove(c)
        table.remove(c)
        XCTAssertEqual(table.openCount, 0)
        let h2 = try XCTUnwrap(table.reserve(), "exactly one slot back, not two")
        table.insert(connection(h2))
        XCTAssertNil(table.reserve())
        table.remove(c)                                      // the slot's old connection: not the one there now
        XCTAssertEqual(table.openCount, 1)
    }
}

final class WriteQueueTests: XCTestCase {

    private func frame(_ byte: UInt8, bodyCount: Int) -> FrameStorage {
        Message(type: .consensus, payload: Array(repeating: byte, count: bodyCount)).storage
    }

    private func readAll(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out += chunk[0..<n]
        }
    }

    /// Small frames (copied) and large ones (sent from their storage), mixed:
    /// the bytes arrive whole and in order, across partial writes.
    func testMixedFramesArriveInOrderThroughPartialWrites() throws {
        let (a, b) = try TestSockets.pair()
        defer { close(a); close(b) }
        var small: Int32 = 4096
        setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var queue = WriteQueue()
        var expected: [UInt8] = []
        for i in 0..<300 {
            let f = frame(UInt8(i & 0xff), bodyCount: i % 7 == 0 ? 5000 : 40 + i % 50)
            expected += Array(UnsafeRawBufferPointer(start: f.base, count: f.frameCount))
            queue.append(f)
        }
        XCTAssertEqual(queue.pendingBytes, expected.count)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 8)
        defer { iovecs.deallocate() }
        var received: [UInt8] = []
        var blockedAtLeastOnce = false
        for _ in 0..<100_000 where !queue.isEmpty {
            var sent = 0
            switch queue.flush(fd: a, iovecs: iovecs, maxIovecs: 8, sent: &sent) {
            case .drained: break
            case .blocked: blockedAtLeastOnce = true
            case .failed(let err): return XCTFail("flush failed: \(err)")
            }
            received += readAll(b)
        }
        received += readAll(b)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertTrue(blockedAtLeastOnce, "a small send buffer forces partial writes")
        XCTAssertEqual(received.count, expected.count)
        XCTAssertTrue(received == expected, "the same bytes in the same order")
    }

    func testAClosedPeerFailsTheFlushAndRemoveAllForgetsEverything() throws {
        let (a, b) = try TestSockets.pair()
        close(b)
        defer { close(a) }
        var queue = WriteQueue()
        queue.append(frame(1, bodyCount: 10))
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 4)
        defer { iovecs.deallocate() }
        var sent = 0
        guard case .failed(let err) = queue.flush(fd: a, iovecs: iovecs, maxIovecs: 4, sent: &sent) else { return XCTFail() }
        XCTAssertEqual(err, EPIPE, "MSG_NOSIGNAL: an error, not a SIGPIPE")
        queue.removeAll()
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.pendingBytes, 0)
    }

    func testDrainHandsOverEveryRunOnce() {
        var queue = WriteQueue()
        var expected: [UInt8] = []
        for i in 0..<20 {
            let f = frame(UInt8(i), bodyCount: i == 10 ? 3000 : 30)
            expected += Array(UnsafeRawBufferPointer(start: f.base, count: f.frameCount))
            queue.append(f)
        }
        var got: [UInt8] = []
        queue.drain { got += Array($0) }
        XCTAssertEqual(got, expected)
        XCTAssertTrue(queue.isEmpty)
        queue.drain { _ in XCTFail("nothing left") }
    }
}

/// The reactor's socket code names options, not configuration keys; the
/// config layer maps each failure back to its `peer.socket.*` key.
final class SocketOptionFailureTests: XCTestCase {
    func testEveryFailedOptionNamesItsOwnConfigKey() throws {
        var options = SocketOptions()
        options.sendBuffer = 65536
        options.receiveBuffer = 65536
        options.reusePort = true
        options.userTimeoutMillis = 1000
        options.notSentLowat = 16384
        options.lingerSeconds = 1
        // Not a socket: every setsockopt fails (ENOTSOCK), so every option reports.
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]); close(ends[1]) }
        let failures = options.applyToConnection(ends[0]) + options.applyToListener(ends[0])
        let known = Set(ConfigLoader.keys.map(\.path).filter { $0.hasPrefix("peer.socket.") })
        let named = failures.map(\.configKey)
        XCTAssertEqual(failures.count, 14, "\(named)")
        for failure in failures {
            XCTAssertEqual(failure.errno, ENOTSOCK)
            XCTAssertTrue(known.contains(failure.configKey), "\(failure.configKey) is not a configuration key")
        }
        // Every knob applied to a socket is named; backlog is listen()'s argument, not an option.
        XCTAssertEqual(Set(named), known.subtracting(["peer.socket.backlog"]))
    }
}

/// A dialed socket gets its options before `connect`: SO_RCVBUF set after the
/// SYN does not change the window scale the handshake agreed.
final class DialOrderTests: XCTestCase {
    func testADialedSocketIsConfiguredBeforeItConnects() throws {
        let listener = try Sockets.listen(on: HostPort(host: "127.0.0.1", port: 0), options: SocketOptions()) { _ in }
        defer { Syscall.close(listener) }
        guard let target = SocketAddress.local(of: listener) else { throw TestFailure("no listener address") }
        var connectedWhenConfigured: Bool?
        let (fd, _) = try Sockets.startConnect(to: target) { fd in
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let rc = withUnsafeMutableBytes(of: &peer) { getpeername(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length) }
            connectedWhenConfigured = rc == 0
        }
        defer { Syscall.close(fd) }
        XCTAssertEqual(connectedWhenConfigured, false, "configure ran before connect (getpeername: ENOTCONN)")
    }
}
