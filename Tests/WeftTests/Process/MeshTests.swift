import CWeftLinux
import Foundation
import Glibc
import Logging
import Synchronization
import Weft
import WeftTools
import XCTest

/// Peers finding each other: real peer processes on 127.0.0.1, and in-process
/// nodes embedding the library with consenters written here.
final class MeshTests: XCTestCase {
    func testFivePeersFormAFullMeshFromOneRootNode() throws {
        let root = try PeerProcess(name: "mesh-0")
        var peers = [root]
        for i in 1..<5 {
            peers.append(try PeerProcess(name: "mesh-\(i)", settings: ["peer.discovery.rootnode": root.listen.description]))
        }
        let names = peers.map(\.name)
        try eventually(timeout: 10, "every peer sees the other four") {
            try peers.allSatisfy { p in try p.peerNames() == names.filter { $0 != p.name } }
        }
        // exactly one connection per pair
        for p in peers { XCTAssertEqual(try p.metric("weft_connections_open"), 4, p.name) }
    }

    func testAKilledPeerLeavesEveryViewAndRejoinsFromItsPersistedList() throws {
        let root = try PeerProcess(name: "heal-0")
        let settings = ["peer.discovery.rootnode": root.listen.description, "peer.discovery.period": "1s"]
        let a = try PeerProcess(name: "heal-1", settings: settings)
        var b = try PeerProcess(name: "heal-2", settings: settings)
        try eventually("full mesh") {
            try root.peerNames() == ["heal-1", "heal-2"] && a.peerNames() == ["heal-0", "heal-2"]
                && b.peerNames() == ["heal-0", "heal-1"]
        }
        let port = b.listen.port
        let dataDir = b.dataDir
        b.killHard()
        try eventually("the killed peer is gone from every view") {
            try root.peerNames() == ["heal-1"] && a.peerNames() == ["heal-0"]
        }
        let persisted = try String(contentsOfFile: dataDir + "/discovery/peers", encoding: .utf8)
        XCTAssertTrue(persisted.contains(root.listen.description), persisted)
        // Restarted with the same data directory and no root node.
        b = try PeerProcess(name: "heal-2", dataDir: dataDir, listenPort: port)
        try eventually(timeout: 15, "it rejoins the whole mesh") {
            try b.peerNames() == ["heal-0", "heal-1"] && root.peerNames() == ["heal-1", "heal-2"]
                && a.peerNames() == ["heal-0", "heal-2"]
        }
    }

    func testTwoPeersDialingEachOtherEndWithOneConnection() throws {
        var duplicatesSeen = 0
        for round in 0..<20 {
            let ports = try TestSockets.freePorts(2)
            let names = ["twin-a", "twin-b"]
            // Both launched before either is waited for, so their dials cross.
            let both = try (0..<2).map { i in
                try PeerProcess(name: names[i], listenPort: ports[i],
                                settings: ["peer.discovery.rootnode": "127.0.0.1:\(ports[1 - i])"], waitUntilStarted: false)
            }
            try both.forEach { try $0.waitStarted() }
            try eventually("round \(round): each sees the other over exactly one connection") {
                try both[0].peerNames() == ["twin-b"] && both[1].peerNames() == ["twin-a"]
                    && both[0].metric("weft_connections_open") == 1 && both[1].metric("weft_connections_open") == 1
            }
            // Both sides describe the same connection; when the dials crossed,
            // the one kept is the one dialed by the lower name.
            let directionA = try HTTPGetJSON.peers(both[0]).first?["direction"] as? String
            let directionB = try HTTPGetJSON.peers(both[1]).first?["direction"] as? String
            XCTAssertEqual([directionA, directionB].compactMap { $0 }.sorted(), ["inbound", "outbound"], "round \(round)")
            let crossed = try both.map { try $0.metric("weft_connections_closed_total{cause=\"duplicate\"}") }.reduce(0, +)
            if crossed > 0 {
                duplicatesSeen += 1
                XCTAssertEqual(directionA, "outbound", "round \(round): twin-a's dial wins")
            }
        }
        print("MeshTests: the dials crossed in \(duplicatesSeen) of 20 rounds")
    }

    func testAPeerThatDialsItselfNeverDialsThatAddressAgain() throws {
        let port = try TestSockets.freePorts(1)[0]
        // Advertised under one name, dialed under another: both sides of the
        // self-connection must learn it.
        let peer = try PeerProcess(name: "narcissus", listenPort: port, settings: [
            "peer.address": "localhost:\(port)", "peer.discovery.rootnode": "127.0.0.1:\(port)",
        ])
        try peer.waitForLog(containing: "127.0.0.1:\(port) is this peer itself")
        sleep(2)                                      // a window in which a redial would show (nothing to wait for)
        XCTAssertEqual(try peer.metric("weft_connections_dialed_total"), 1)
        XCTAssertEqual(try peer.peerNames(), [])
    }

    func testLearnedAddressesThatNeverAnswerAreForgotten() throws {
        let peer = try PeerProcess(name: "forgetful", settings: [
            "peer.discovery.forgetAfter": "1s", "peer.discovery.period": "500ms",
        ])
        let (teller, _) = try WireClient.handshaken(peer.listen, name: "teller", type: .validator)
        var list = Protos_PeersMessage()
        for port in try TestSockets.freePorts(3) {          // loopback ports where nothing listens
            var endpoint = Protos_PeerEndpoint()
            endpoint.id.name = "ghost-\(port)"
            endpoint.address = "127.0.0.1:\(port)"
            endpoint.type = .validator
            list.peers.append(endpoint)
        }
        try teller.write(WireClient.frame(type: .discPeers, payload: try list.serializedBytes()))
        try eventually("the three are learned and dialed") { try peer.metric("weft_connections_dialed_total") >= 3 }
        try eventually(timeout: 10, "and forgotten after 1 s of failed dials") {
            try peer.metric("weft_discovery_known_addresses") == 1       // only the teller's own address stays
        }
        try peer.waitForLog(containing: "forgetting 127.0.0.1:")
    }

    func testBroadcastReachesEveryOtherPeerOnceInOrder() throws {
        let receivers = (0..<3).map { _ in RecordingConsenter() }
        let sender = BroadcastingConsenter()
        let first = try InProcessPeer(name: "bc-0", consenter: sender)
        let others = try (0..<3).map { i in
            try InProcessPeer(name: "bc-\(i + 1)", consenter: receivers[i], rootNode: first.node.boundAddress.description)
        }
        try eventually("the sender sees the three others") { sender.peerCount() == 3 }
        sender.broadcast(count: 1000)
        try eventually("each receiver has 1000 messages") { receivers.allSatisfy { $0.received.count == 1000 } }
        usleep(200_000)       // a window in which a duplicate would show (nothing to wait for)
        for (i, r) in receivers.enumerated() {
            XCTAssertEqual(r.received, Array(0..<1000), "receiver \(i): each message once, in order")
            XCTAssertEqual(Set(r.senders), ["bc-0"])
        }
        withExtendedLifetime(others) {}
    }

    /// The fan learns a sender's PeerID from its connection's first message and
    /// keeps it by slot: with one slot, a second client must reuse the first
    /// one's, and every message must still name its own sender (long names:
    /// heap strings, not inline ones).
    func testTheConsenterLearnsEachSenderAlsoWhenASlotIsReused() throws {
        let recorder = RecordingConsenter()
        let peer = try InProcessPeer(name: "slots", consenter: recorder, settings: ["peer.limits.maxConnections": "1"])
        let names = ["peer0.org1.example.com-first", "peer1.org2.example.com-second"]
        func send(_ client: WireClient, _ values: Range<Int>) throws {
            for v in values { try client.write(WireClient.frame(type: .consensus, payload: withUnsafeBytes(of: UInt32(v).bigEndian, Array.init))) }
        }
        let (first, _) = try WireClient.handshaken(peer.node.boundAddress, name: names[0])
        try send(first, 0..<3)
        try eventually("the first client's messages arrive") { recorder.received.count == 3 }
        first.reset()
        var second: WireClient?
        try eventually("the only slot is free again for the second client") {
            second = try? WireClient.handshaken(peer.node.boundAddress, name: names[1]).0
            return second != nil
        }
        try send(second!, 3..<6)
        try eventually("the second client's messages arrive") { recorder.received.count == 6 }
        XCTAssertEqual(recorder.received, Array(0..<6))
        XCTAssertEqual(recorder.senders, [names[0], names[0], names[0], names[1], names[1], names[1]])
    }

    func testUnicastToAnUnknownPeerIsAnErrorForTheConsenter() throws {
        let sender = BroadcastingConsenter()
        let peer = try InProcessPeer(name: "uni-0", consenter: sender)
        XCTAssertEqual(sender.unicastError(to: "nobody"), .unknownPeer("nobody"))
        withExtendedLifetime(peer) {}
    }

    /// scripts/cluster/netns-cluster.sh: 4 peers in 4 network namespaces joined by a
    /// bridge. Where namespaces cannot be made it is skipped, with the reason.
    func testMeshAcrossNetworkNamespaces() throws {
        let script = RepoRoot.url.appendingPathComponent("scripts/cluster/netns-cluster.sh").path
        let (status, text) = try runProcess("/bin/bash", [script, "4", "--timeout", "30"], environment: ["WEFT_BIN": PeerProcess.binary])
        if status == 77 {
            throw XCTSkip("network namespaces unavailable: " + (text.split(separator: "\n").first { $0.contains("SKIP") }.map(String.init) ?? text))
        }
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("full mesh of 4 peers formed"), text)
        XCTAssertEqual(text.components(separatedBy: ": 3 established").count - 1, 4, text)
    }
}
