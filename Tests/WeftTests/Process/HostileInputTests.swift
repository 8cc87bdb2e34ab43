import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// Whatever a broken or hostile client does, the peer keeps serving a healthy
/// client connected at the same time. Each test ends by checking that.
final class HostileInputTests: XCTestCase {
    private func consensus(_ payload: [UInt8]) -> [UInt8] { WireClient.frame(type: .consensus, payload: payload) }

    private func helloFrame(name: String, address: String = "127.0.0.1:1", type: Protos_PeerEndpoint.TypeEnum = .nonValidator) -> [UInt8] {
        WireClient.hello(name: name, address: address, type: type)
    }

    /// Reads what comes before the close: the DISC_DISCONNECT reasons.
    private func reasons(_ client: WireClient) throws -> [String] {
        try client.readUntilClosed().filter { $0.type == .discDisconnect }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    func testConnectionLimitClosesTheExtraConnectionsAtOnce() throws {
        let peer = try PeerProcess(name: "lim", settings: ["peer.limits.maxConnections": "3"])
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        let others = try (0..<2).map { _ in try WireClient(peer.listen) }
        let extra = try (0..<3).map { _ in try WireClient(peer.listen, timeoutSeconds: 3) }
        for client in extra { XCTAssertEqual(try client.readUntilClosed().count, 0, "closed at once, nothing sent") }
        XCTAssertEqual(try peer.metric("weft_connections_closed_total{cause=\"connection_limit\"}"), 3)
        try healthy.echoCheck(count: 300, tag: 1)
        withExtendedLifetime(others) {}
    }

    func testRunningOutOfDescriptorsNeitherSpinsNorStopsLaterAccepts() throws {
        let peer = try PeerProcess(name: "emfile", fileLimit: 32)
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        var flood: [WireClient] = []
        for _ in 0..<60 { if let c = try? WireClient(peer.listen, timeoutSeconds: 2) { flood.append(c) } }
        try peer.waitForLog(containing: "shedding connections")
        let cpuBefore = try peer.cpuSeconds()
        sleep(2)                                  // the window the CPU is measured over (not a wait for a state)
        let cpuUsed = try peer.cpuSeconds() - cpuBefore
        XCTAssertLessThan(cpuUsed, 1.0, "the loop must not spin on a listener it cannot accept from (\(cpuUsed) s of CPU in 2 s)")
        try healthy.echoCheck(count: 200, tag: 2)
        flood.removeAll()                                   // descriptors come back
        try eventually("a new client is served again") {
            let (late, _) = try WireClient.handshaken(peer.listen, name: "late", timeoutSeconds: 2)
            try late.echoCheck(count: 10, tag: 3)
            return true
        }
        XCTAssertGreaterThan(try peer.metric("weft_accept_errors_total"), 0)
    }

    func testHandshakeTimeoutBoundsSilentAndTricklingClients() throws {
        let peer = try PeerProcess(name: "hs", settings: ["peer.limits.handshakeTimeout": "500ms"])
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        let silent = try WireClient(peer.listen)
        let trickle = try WireClient(peer.listen)
        let hello = helloFrame(name: "slow")
        let started = Date()
        for byte in hello.prefix(8) {               // a hello that never finishes (the peer cuts it off)
            guard (try? trickle.write([byte])) != nil else { break }
            usleep(100_000)
        }
        XCTAssertEqual(try silent.readUntilClosed().count, 0)
        XCTAssertEqual(try trickle.readUntilClosed().count, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        XCTAssertEqual(try peer.metric("weft_connections_closed_total{cause=\"handshake_timeout\"}"), 2)
        try healthy.echoCheck(count: 200, tag: 1)
    }

    func testIdleTimeoutCutsSilentAndSlowlorisPeersButNotBusyOnes() throws {
        let peer = try PeerProcess(name: "idle", settings: ["peer.limits.idleTimeout": "1s"])
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        let (silent, _) = try WireClient.handshaken(peer.listen, name: "silent")
        let (loris, _) = try WireClient.handshaken(peer.listen, name: "loris")
        let frame = consensus(Array(repeating: 7, count: 40))
        let deadline = Date().addingTimeInterval(3)
        var sentBytes = 0
        while Date() < deadline {                  // one byte every 300 ms: activity, but never a whole frame
            try healthy.echoCheck(count: 20, tag: 1)
            if sentBytes < frame.count - 1, (try? loris.write([frame[sentBytes]])) != nil { sentBytes += 1 }
            usleep(300_000)
        }
        XCTAssertEqual(try reasons(silent), ["idle timeout"])
        XCTAssertEqual(try reasons(loris), ["idle timeout"])
        try healthy.echoCheck(count: 200, tag: 2)
        XCTAssertEqual(try peer.peerNames(), ["healthy"])
    }

    func testASlowPeerIsDisconnectedAndTheOthersKeepTheirSpeed() throws {
        let peer = try PeerProcess(name: "slow", settings: ["peer.limits.maxPendingWrite": "262144", "peer.socket.sendBuffer": "16384"])
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        // A client that sends and never reads: its echoes pile up.
        let slow = try WireClient(peer.listen, timeoutSeconds: 2)
        var small: Int32 = 4096
        setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        try slow.write(helloFrame(name: "sluggard"))
        let burst = (0..<64).flatMap { _ in consensus(Array(repeating: 9, count: 1000)) }
        var closed = false
        for _ in 0..<2000 where !closed {
            closed = (try? slow.write(burst)) == nil
            try healthy.echoCheck(count: 5, tag: 1)
            if try peer.metric("weft_slow_peers_disconnected_total") > 0 { break }
        }
        try eventually("the slow peer is disconnected") { try peer.metric("weft_slow_peers_disconnected_total") == 1 }
        try peer.waitForLog(containing: "slow peer")
        try healthy.echoCheck(count: 500, tag: 2)
        XCTAssertEqual(try peer.peerNames(), ["healthy"])
    }

    func testInvalidHellosAreRefusedWithAReason() throws {
        let peer = try PeerProcess(name: "hello-check")
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        let nameField: [UInt8] = [0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe]       // ID { name: 0xff 0xfe }
        let badUTF8Payload = [0x0a, UInt8(nameField.count + 13)] + nameField + [0x12, 0x0b] + Array("127.0.0.1:1".utf8)
        let cases: [(String, [UInt8], String)] = [
            ("empty name", helloFrame(name: ""), "invalid hello"),
            ("name over 256 bytes", helloFrame(name: String(repeating: "n", count: 257)), "invalid hello"),
            ("name not UTF-8", WireClient.frame(type: .discHello, payload: badUTF8Payload), "invalid hello"),
            ("address without port", helloFrame(name: "x", address: "localhost"), "invalid hello"),
            ("address port 0", helloFrame(name: "x", address: "127.0.0.1:0"), "invalid hello"),
            ("payload not a HelloMessage", WireClient.frame(type: .discHello, payload: [0xff, 0xff, 0xff]), "invalid hello"),
            ("its own name", helloFrame(name: "hello-check"), "self connection"),
            ("a name already connected", helloFrame(name: "healthy"), "duplicate connection"),
        ]
        for (what, frame, reason) in cases {
            let client = try WireClient(peer.listen)
            try client.write(frame)
            XCTAssertEqual(try reasons(client), [reason], what)
        }
        XCTAssertEqual(try peer.peerNames(), ["healthy"])
        try healthy.echoCheck(count: 200, tag: 1)
    }

    func testZeroLengthFramesResetsAndHalfClosesCostOnlyTheirOwnConnection() throws {
        let peer = try PeerProcess(name: "edges")
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")

        // A zero-length frame is an UNDEFINED message: ignored, the connection stays.
        let (zero, _) = try WireClient.handshaken(peer.listen, name: "zero")
        try zero.write([0, 0, 0, 0])
        try zero.echoCheck(count: 10, tag: 5)

        // A reset in the middle of a frame.
        let (reset, _) = try WireClient.handshaken(peer.listen, name: "reset")
        try reset.write(Array(consensus(Array(repeating: 1, count: 100)).prefix(30)))
        reset.reset()

        // A half-close after a partial frame: the peer sees EOF and closes its side.
        let (half, _) = try WireClient.handshaken(peer.listen, name: "half")
        try half.write(Array(consensus([1, 2, 3]).prefix(5)))
        shutdown(half.fd, Int32(SHUT_WR))
        XCTAssertEqual(try half.readUntilClosed().count, 0)

        try eventually("both are gone") { try peer.peerNames() == ["healthy", "zero"] }
        try healthy.echoCheck(count: 300, tag: 1)
        try zero.echoCheck(count: 10, tag: 6)
    }

    func testADiscPeersFloodIsBounded() throws {
        let peer = try PeerProcess(name: "flooded", settings: ["peer.discovery.maxPeers": "16"])
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        let (flooder, _) = try WireClient.handshaken(peer.listen, name: "flooder", type: .validator)
        var list = Protos_PeersMessage()
        for i in 0..<5000 {                        // loopback ports where nothing listens, and junk
            var endpoint = Protos_PeerEndpoint()
            endpoint.id.name = "bogus-\(i)"
            endpoint.address = i % 5 == 0 ? "not an address" : "127.0.0.1:\(20000 + i % 3000)"
            endpoint.type = .validator
            list.peers.append(endpoint)
        }
        try flooder.write(WireClient.frame(type: .discPeers, payload: try list.serializedBytes()))
        for _ in 0..<10 {
            XCTAssertLessThanOrEqual(try peer.metric("weft_connections_open"), 16 + 2, "dials stay under maxPeers")
            XCTAssertLessThanOrEqual(try peer.metric("weft_discovery_known_addresses"), 256, "the address list is capped")
            try healthy.echoCheck(count: 50, tag: 1)
            usleep(100_000)
        }
        try peer.waitForLog(containing: "refused (address list full")
        withExtendedLifetime(flooder) {}
    }

    func testShutdownDeliversEverythingAcceptedBeforeSIGTERM() throws {
        let peer = try PeerProcess(name: "drain", settings: ["peer.validator.consensus.echo.delay": "5ms"])
        let (client, _) = try WireClient.handshaken(peer.listen, name: "drainee")
        let total = 300
        try client.write((0..<total).flatMap { consensus(withUnsafeBytes(of: UInt16($0).bigEndian, Array.init)) })
        try eventually("all frames are in") { try peer.metric("weft_frames_in_total") == total + 1 }
        kill(peer.process.processIdentifier, SIGTERM)
        var echoed: [Int] = []
        var goodbye: String?
        while let message = try? client.readMessage() {
            if message.type == .consensus { echoed.append(message.payload.reduce(0) { $0 << 8 | Int($1) }) }
            if message.type == .discDisconnect { goodbye = String(decoding: message.payload, as: UTF8.self) }
        }
        XCTAssertEqual(echoed, Array(0..<total), "every accepted message reached the consenter and came back")
        XCTAssertEqual(goodbye, "shutting down")
        peer.process.waitUntilExit()
        XCTAssertEqual(peer.process.terminationStatus, 0)
    }

    func testASecondSignalExitsAtOnce() throws {
        let peer = try PeerProcess(name: "impatient", settings: ["peer.validator.consensus.echo.delay": "50ms"])
        let (client, _) = try WireClient.handshaken(peer.listen, name: "busy")
        try client.write((0..<100).flatMap { _ in consensus([1]) })      // 5 s of consenter work
        try eventually("frames are in") { try peer.metric("weft_frames_in_total") == 101 }
        kill(peer.process.processIdentifier, SIGTERM)
        try peer.waitForLog(containing: "stopping")
        kill(peer.process.processIdentifier, SIGTERM)
        let started = Date()
        peer.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(peer.process.terminationStatus, 1)
    }
}
