import Foundation
import Glibc
import SwiftProtobuf
import Weft
import XCTest

/// `peer.limits.readBudget`: one connection that floods cannot take the
/// inbound ring from the others.
final class FairnessTests: XCTestCase {
    /// A budget of one frame: everything a client sent in one write still
    /// arrives, in order, served one frame per turn from its buffer (the
    /// socket has nothing new to say after the first read).
    func testABudgetOfOneFrameLosesNothingAndKeepsOrder() throws {
        let peer = try PeerProcess(name: "vp-budget", settings: ["peer.limits.readBudget": "1"])
        let (client, _) = try WireClient.handshaken(peer.listen, name: "batcher")
        try client.echoCheck(count: 3000, tag: 4, window: 1000)
        XCTAssertEqual(try peer.metric("weft_consenter_messages_total"), 3000)
    }

    /// The same over TLS: frames of records already opened, and records
    /// still in the session, wait for the connection's next turn.
    func testABudgetOfOneFrameOverTLSLosesNothing() throws {
        let certs = try TestCertificates(names: ["tbud-0"])
        var settings = certs.settings(for: "tbud-0")
        settings["peer.limits.readBudget"] = "1"
        let peer = try PeerProcess(name: "tbud-0", settings: settings)
        let client = try WireClient(peer.listen)
        try client.secure(certs.clientContext())
        try client.write(WireClient.hello(name: "budget-1.load.weft"))
        XCTAssertEqual(try client.readMessage().type, .discHello)
        try client.echoCheck(count: 2000, tag: 6, window: 500)
    }

    /// A flooder writes CONSENSUS frames as fast as the peer takes them (its
    /// echoes are read and dropped on another thread) into a small ring behind
    /// a slow consenter, so the ring is full most of the time. Meanwhile a
    /// second client sends one message at a time and waits for its echo:
    /// each must come back, with no more messages ahead of it than the ring,
    /// one budget of the flooder's and the metric's granularity.
    func testAFloodingConnectionDoesNotStarveAnother() throws {
        let peer = try PeerProcess(name: "vp-fair", settings: [
            "peer.validator.consensus.buffersize": "64",
            "peer.validator.consensus.echo.delay": "1ms",
            "peer.limits.readBudget": "8",
        ])
        let (flooder, _) = try WireClient.handshaken(peer.listen, name: "flooder")
        let (probe, _) = try WireClient.handshaken(peer.listen, name: "probe", timeoutSeconds: 5)

        final class Flood: @unchecked Sendable {
            let stop = NSLock()
            var stopped = false
            var isStopped: Bool { stop.lock(); defer { stop.unlock() }; return stopped }
        }
        let flood = Flood()
        let floodFD = flooder.fd
        let chunk = (0..<2000).flatMap { WireClient.frame(type: .consensus, payload: Array(repeating: UInt8($0 & 0x7f), count: 100)) }
        let writer = Thread {
            let deadline = Date().addingTimeInterval(60)           // bounded even if the test fails
            while !flood.isStopped, Date() < deadline {
                let n = chunk.withUnsafeBytes { send(floodFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 && errno != EINTR && errno != EAGAIN { return }
            }
        }
        let drainer = Thread {
            var sink = [UInt8](repeating: 0, count: 1 << 16)
            while !flood.isStopped {
                let n = sink.withUnsafeMutableBytes { recv(floodFD, $0.baseAddress, $0.count, 0) }
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return }
            }
        }
        writer.start()
        drainer.start()
        defer {
            flood.stop.lock(); flood.stopped = true; flood.stop.unlock()
            shutdown(floodFD, Int32(SHUT_RDWR))
            withExtendedLifetime(flooder) {}
        }

        // The flood has the ring full before the probe starts.
        try eventually("the ring fills up") { try peer.metric("weft_ring_full_total") > 0 }
        // How many messages the consenter took between a probe's send and its
        // echo: those that went ahead of it (a count, not a time: the same on
        // a busy machine).
        var ahead: [Int] = []
        for i in 0..<10 {
            let before = try peer.metric("weft_consenter_messages_total")
            try probe.write(WireClient.frame(type: .consensus, payload: [0xee, UInt8(i)]))
            let reply: Protos_Message
            do { reply = try probe.readMessage() } catch {
                throw TestFailure("probe message \(i) got no echo within 5 s while the flood runs: \(error)")
            }
            XCTAssertEqual(reply.payload, Data([0xee, UInt8(i)]))
            ahead.append(try peer.metric("weft_consenter_messages_total") - before)
        }
        // Ahead of a probe: the ring (64), a budget of the flooder's (8) and
        // the metric's granularity (64). Without the budget: whatever was
        // left of the flooder's last 256 KiB read (up to ~2,400 frames).
        let median = ahead.sorted()[ahead.count / 2]
        XCTAssertLessThan(median, 400, "messages the consenter took ahead of each probe: \(ahead)")
        XCTAssertFalse(flood.isStopped)
        XCTAssertGreaterThan(try peer.metric("weft_consenter_messages_total"), 200, "the flood was flowing too")
    }
}
