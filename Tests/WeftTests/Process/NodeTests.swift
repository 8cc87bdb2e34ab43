import Foundation
import Glibc
import SwiftProtobuf
import Weft
import XCTest

/// The peer binary as a child process, driven over real sockets on 127.0.0.1.
final class NodeTests: XCTestCase {
    private func consensus(_ payload: [UInt8]) -> [UInt8] { WireClient.frame(type: .consensus, payload: payload) }
    private func echo(_ client: WireClient, count: Int, tag: UInt8) throws { try client.echoCheck(count: count, tag: tag) }

    func testHelloIsAnsweredWithThePeersOwnHello() throws {
        let peer = try PeerProcess(name: "vp-hello")
        let (client, hello) = try WireClient.handshaken(peer.listen, name: "client-1")
        XCTAssertEqual(hello.peerEndpoint.id.name, "vp-hello")
        XCTAssertEqual(hello.peerEndpoint.type, .validator)
        XCTAssertEqual(hello.peerEndpoint.address, peer.listen.description)
        try eventually("the client is established") { try peer.peerNames() == ["client-1"] }
        withExtendedLifetime(client) {}
    }

    func testEightConnectionsEachEchoFiveThousandFramesInOrder() throws {
        let peer = try PeerProcess(name: "vp-echo")
        let failures = NSLock()
        nonisolated(unsafe) var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                let (client, _) = try WireClient.handshaken(peer.listen, name: "echo-\(i)")
                try client.echoCheck(count: 5000, tag: UInt8(i))
            } catch {
                failures.lock(); errors.append("connection \(i): \(error)"); failures.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(try peer.metric("weft_consenter_messages_total"), 40_000)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    func testConsensusBeforeHelloIsDisconnected() throws {
        let peer = try PeerProcess(name: "vp-order")
        let client = try WireClient(peer.listen)
        try client.write(consensus([1, 2, 3]))
        let frames = try client.readUntilClosed()
        XCTAssertEqual(frames.map(\.type), [.discDisconnect])
        XCTAssertEqual(String(decoding: frames.first?.payload ?? Data(), as: UTF8.self), "expected DISC_HELLO")
        try eventually("counted") { try peer.metric("weft_connections_closed_total{cause=\"expected_hello\"}") == 1 }
    }

    func testOversizeAndMalformedFramesCostOnlyTheirOwnConnection() throws {
        let peer = try PeerProcess(name: "vp-bad")
        let (healthy, _) = try WireClient.handshaken(peer.listen, name: "healthy")
        try echo(healthy, count: 200, tag: 1)

        let (big, _) = try WireClient.handshaken(peer.listen, name: "big")
        try big.write([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])
        let bigFrames = try big.readUntilClosed()
        XCTAssertEqual(bigFrames.map { String(decoding: $0.payload, as: UTF8.self) }, ["frame too large"])

        try echo(healthy, count: 200, tag: 2)

        let (bad, _) = try WireClient.handshaken(peer.listen, name: "malformed")
        try bad.write([0, 0, 0, 3, 0xff, 0xff, 0xff])
        let badFrames = try bad.readUntilClosed()
        XCTAssertEqual(badFrames.map { String(decoding: $0.payload, as: UTF8.self) }, ["malformed frame"])

        try echo(healthy, count: 200, tag: 3)
        try eventually("both closes counted") {
            try peer.metric("weft_connections_closed_total{cause=\"frame_too_large\"}") == 1
                && peer.metric("weft_connections_closed_total{cause=\"malformed_frame\"}") == 1
        }
        XCTAssertEqual(try peer.metric("weft_decode_errors_total"), 2)
        XCTAssertEqual(try peer.peerNames(), ["healthy"])
    }

    /// A 2-slot ring and a consenter that takes 20 ms per message.
    private let slowConsenter = ["peer.validator.consensus.buffersize": "2", "peer.validator.consensus.echo.delay": "20ms"]

    func testRejectPolicyDropsCountsAndKeepsTheConnection() throws {
        var settings = slowConsenter
        settings["peer.validator.consensus.overflow"] = "reject"
        let peer = try PeerProcess(name: "vp-reject", settings: settings)
        let (client, _) = try WireClient.handshaken(peer.listen, name: "flooder", timeoutSeconds: 3)
        let total = 100
        try client.write((0..<total).flatMap { consensus([UInt8($0)]) })
        var echoed: [UInt8] = []
        while let body = try? client.readFrameBody() {
            echoed.append(try Protos_Message(serializedBytes: body).payload.first ?? 0)
        }
        let rejected = try peer.metric("weft_messages_rejected_total")
        XCTAssertGreaterThan(rejected, 0, "a 2-slot ring behind a slow consenter must overflow")
        XCTAssertEqual(echoed.count + rejected, total, "every message is either echoed or counted as rejected")
        XCTAssertEqual(echoed, echoed.sorted(), "what gets through keeps its order")
        try peer.waitForLog(containing: "Message channel for flooder full, rejecting")
        // the connection stays: a later message is still echoed
        try client.write(consensus([200]))
        XCTAssertEqual(try client.readMessage().payload, Data([200]))
        XCTAssertEqual(try peer.peerNames(), ["flooder"])
    }

    func testBackpressurePolicyLosesNothing() throws {
        let peer = try PeerProcess(name: "vp-backpressure", settings: slowConsenter)
        let (client, _) = try WireClient.handshaken(peer.listen, name: "flooder")
        let total = 100
        try client.write((0..<total).flatMap { consensus([UInt8($0)]) })
        var echoed: [UInt8] = []
        for _ in 0..<total { echoed.append(try client.readMessage().payload.first ?? 0) }
        XCTAssertEqual(echoed, (0..<total).map { UInt8($0) })
        XCTAssertGreaterThan(try peer.metric("weft_ring_full_total"), 0, "the reader was paused at least once")
        XCTAssertEqual(try peer.metric("weft_messages_rejected_total"), 0)
    }

    func testSIGTERMSaysGoodbyeAndExitsZero() throws {
        let peer = try PeerProcess(name: "vp-term")
        let (client, _) = try WireClient.handshaken(peer.listen, name: "watcher")
        try echo(client, count: 10, tag: 9)
        XCTAssertEqual(try peer.terminate(), 0)
        let frames = try client.readUntilClosed()
        XCTAssertEqual(frames.map { String(decoding: $0.payload, as: UTF8.self) }, ["shutting down"])
        XCTAssertTrue(peer.log.contains("stopped"))
    }
}
