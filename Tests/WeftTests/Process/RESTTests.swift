import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// Fabric v0.6's REST API on a real peer process, over real HTTP on 127.0.0.1.
final class RESTTests: XCTestCase {
    static let settings = ["peer.validator.consensus.noops.blockTimeout": "50ms"]

    func testEveryEndpointAnswersFabricsShapes() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.settings, consensus: "noops")
        let rest = try XCTUnwrap(peer.rest, "the start line names the REST address")

        let empty = try Self.json(rest, "/chain")
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual(empty.object["height"] as? Int, 0)

        // POST /transactions?wait=true: committed through the peer's own client port.
        let (posted, postBody) = try HTTPGet.request(rest, path: "/transactions?txid=rest-1&wait=true", method: "POST", body: "payload one")
        XCTAssertEqual(posted, 200, postBody)
        XCTAssertEqual(try Self.object(postBody) as? [String: String], ["txid": "rest-1", "status": "committed"])
        // Without wait, a txid is made up and returned at once.
        let (handed, handedBody) = try HTTPGet.request(rest, path: "/transactions", method: "POST", body: "payload two")
        XCTAssertEqual(handed, 200, handedBody)
        let generated = try XCTUnwrap(try Self.object(handedBody)["txid"] as? String)
        XCTAssertNotNil(UUID(uuidString: generated), handedBody)

        let found = try Self.json(rest, "/transactions/rest-1")
        XCTAssertEqual(found.status, 200)
        let tx = try XCTUnwrap(found.object["transaction"] as? [String: Any])
        XCTAssertEqual(tx["txid"] as? String, "rest-1")
        XCTAssertEqual(tx["payload"] as? String, Data("payload one".utf8).base64EncodedString())
        XCTAssertNotNil((tx["timestamp"] as? [String: Any])?["seconds"])
        let number = try XCTUnwrap(found.object["blockNumber"] as? Int)

        let block = try Self.json(rest, "/chain/blocks/\(number)")
        XCTAssertEqual(block.status, 200)
        let txids = (block.object["transactions"] as? [[String: Any]])?.compactMap { $0["txid"] as? String }
        XCTAssertEqual(txids?.contains("rest-1"), true, "\(block.object)")
        XCTAssertNotNil(block.object["previousBlockHash"] as? String)

        try eventually(timeout: 10, "the unwaited transaction is in the chain") { try Self.json(rest, "/transactions/\(generated)").status == 200 }
        let chain = try Self.json(rest, "/chain")
        let height = try XCTUnwrap(chain.object["height"] as? Int)
        XCTAssertGreaterThanOrEqual(height, 1)
        let current = try XCTUnwrap(Data(base64Encoded: chain.object["currentBlockHash"] as? String ?? ""))
        XCTAssertEqual(current.count, 32, "SHA-256 of the last block")
        // The block past the height and an unknown txid are 404; a block id that is no number 400.
        XCTAssertEqual(try Self.json(rest, "/chain/blocks/\(height)").status, 404)
        XCTAssertEqual(try Self.json(rest, "/chain/blocks/\(height + 1000)").status, 404)
        let bad = try Self.json(rest, "/chain/blocks/abc")
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.object["Error"] as? String, "Block id must be an integer (uint64).")
        let missing = try Self.json(rest, "/transactions/no-such-tx")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.object["Error"] as? String, "Transaction no-such-tx is not found.")
        XCTAssertEqual(try Self.json(rest, "/nowhere").status, 404)
        XCTAssertEqual(try HTTPGet.request(rest, path: "/chain", method: "DELETE").0, 405)
        XCTAssertEqual(try HTTPGet.request(rest, path: "/transactions", method: "GET").0, 405)

        // /network/peers: a second peer joins; both listed, this one too (as Fabric).
        let other = try PeerProcess(name: "vp1", settings: Self.settings.merging(["peer.discovery.rootnode": peer.listen.description]) { $1 },
                                    consensus: "noops")
        try eventually(timeout: 10, "vp0 lists vp1") {
            let names = (try Self.json(rest, "/network/peers").object["peers"] as? [[String: Any]])?
                .compactMap { ($0["ID"] as? [String: Any])?["name"] as? String }
            return Set(names ?? []) == ["vp0", "vp1"]
        }
        let peers = try XCTUnwrap(try Self.json(rest, "/network/peers").object["peers"] as? [[String: Any]])
        XCTAssertTrue(peers.allSatisfy { $0["type"] as? Int == 1 && $0["address"] is String }, "\(peers)")
        XCTAssertEqual(try other.terminate(), 0)
        XCTAssertEqual(try peer.terminate(), 0)
    }

    func testMalformedAndOversizedRequestsAreRefusedAndThePeerGoesOn() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.settings, consensus: "noops")
        let rest = try XCTUnwrap(peer.rest)
        XCTAssertTrue(try Self.raw(rest, "GARBAGE\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(try Self.raw(rest, "POST /transactions HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n").hasPrefix("HTTP/1.1 413 "))
        XCTAssertTrue(try Self.raw(rest, "GET /chain HTTP/1.1\r\nX-Pad: \(String(repeating: "a", count: 9000))\r\n\r\n").hasPrefix("HTTP/1.1 431 "))
        XCTAssertTrue(try Self.raw(rest, "POST /transactions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        let (status, body) = try HTTPGet.request(rest, path: "/transactions?wait=maybe", method: "POST", body: "x")
        XCTAssertEqual(status, 400, body)
        XCTAssertTrue(body.contains("\"Error\""), body)
        XCTAssertEqual(try Self.json(rest, "/chain").status, 200, "still serving")
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// Clients that hold their connection without finishing a request cost
    /// their own connection: the others are served meanwhile; past
    /// rest.maxConnections a connection is answered 503 at once.
    func testSlowClientsDoNotStopOthersAndConnectionsAreBounded() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.settings.merging(["rest.maxConnections": "4"]) { $1 }, consensus: "noops")
        let rest = try XCTUnwrap(peer.rest)
        let address = try XCTUnwrap(try rest.resolve().first)
        var slow: [Int32] = []
        defer { slow.forEach { close($0) } }
        for _ in 0..<3 {
            let fd = try BlockingSocket.connect(address, timeoutSeconds: 5)
            try BlockingSocket.writeAll(fd, Array("GET /ch".utf8))          // and never the rest
            slow.append(fd)
        }
        for _ in 0..<5 { XCTAssertEqual(try Self.json(rest, "/chain").status, 200) }
        // The fourth held connection takes the last place; the next request is refused.
        let fourth = try BlockingSocket.connect(address, timeoutSeconds: 5)
        slow.append(fourth)
        try BlockingSocket.writeAll(fourth, Array("GET /ch".utf8))
        try eventually(timeout: 5, "a fifth connection is answered 503") {
            try HTTPGet.request(rest, path: "/chain").0 == 503
        }
        // Once they are gone, their places are free again.
        slow.forEach { close($0) }
        slow = []
        try eventually(timeout: 15, "served again once the slow clients left") { try HTTPGet.request(rest, path: "/chain").0 == 200 }
        XCTAssertEqual(try peer.terminate(), 0)
    }

    /// rest.readQueue 1 and a reader slowed down (rest.test.readDelay): of
    /// several reads at once, one is being read, one waits, the others are 503.
    func testAFullReadQueueAnswers503() throws {
        let peer = try PeerProcess(name: "vp0", settings: Self.settings.merging(["rest.readQueue": "1", "rest.test.readDelay": "3s"]) { $1 },
                                   consensus: "noops")
        let rest = try XCTUnwrap(peer.rest)
        let statuses = Statuses()
        let done = DispatchGroup()
        for _ in 0..<4 {       // threads of their own: concurrentPerform would run only as many as there are cores
            done.enter()
            Thread {
                statuses.add((try? HTTPGet.request(rest, path: "/chain", timeoutSeconds: 20).0) ?? -1)
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertGreaterThanOrEqual(statuses.all.filter { $0 == 503 }.count, 2, "\(statuses.all)")
        XCTAssertGreaterThanOrEqual(statuses.all.filter { $0 == 200 }.count, 1, "\(statuses.all)")
        XCTAssertEqual(statuses.all.filter { $0 != 200 && $0 != 503 }, [], "\(statuses.all)")
        XCTAssertEqual(try peer.terminate(), 0)
    }

    func testRESTCanBeTurnedOffAndAPeerWhosePortIsTakenRunsWithoutIt() throws {
        let off = try PeerProcess(name: "vp0", settings: ["rest.enabled": "false"], consensus: "echo")
        XCTAssertNil(off.rest)
        XCTAssertTrue(off.log.contains("rest=off"), off.log)
        XCTAssertEqual(try off.terminate(), 0)

        let first = try PeerProcess(name: "vp1", consensus: "echo")
        let taken = try XCTUnwrap(first.rest)
        let second = try PeerProcess(name: "vp2", settings: ["rest.address": taken.description], consensus: "echo")
        XCTAssertNil(second.rest)
        try second.waitForLog(containing: "REST API not started")
        XCTAssertEqual(try second.terminate(), 0)
        XCTAssertEqual(try first.terminate(), 0)
    }

    /// A lone PBFT replica of four never commits: POST ?wait=true gives up
    /// after its timeout with 504, naming the txid.
    func testPostThatGetsNoAnswerInTimeIs504() throws {
        let lone = try PBFTPeer.start("vp0")
        let rest = try XCTUnwrap(lone.process.rest)
        let (status, body) = try HTTPGet.request(rest, path: "/transactions?txid=never&wait=true&timeout=1s", method: "POST", body: "x")
        XCTAssertEqual(status, 504, body)
        let answer = try Self.object(body)
        XCTAssertEqual(answer["txid"] as? String, "never")
        XCTAssertEqual(answer["status"] as? String, "timeout")
        XCTAssertEqual(try Self.json(rest, "/transactions/never").status, 404)
        XCTAssertEqual(try lone.process.terminate(), 0)
    }

    func testTheKeysComeFromCoreYAMLTheEnvironmentAndFlagsAndBadOnesNameTheKey() throws {
        let (config, _) = try ConfigLoader.load(file: nil, environment: ["CORE_REST_ENABLED": "false", "CORE_REST_ADDRESS": "127.0.0.1:7150"],
                                                overrides: [("rest.maxConnections", "8")])
        XCTAssertEqual(config.rest.enabled, false)
        XCTAssertEqual(config.rest.address, "127.0.0.1:7150")
        XCTAssertEqual(config.rest.maxConnections, 8)
        XCTAssertEqual(PeerConfig().rest.address, "127.0.0.1:7050", "local by default: the API is unauthenticated")
        let bad = try runWeft(["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "", "--set", "rest.address=nowhere"])
        XCTAssertEqual(bad.status, 64, bad.output)
        XCTAssertTrue(bad.output.contains("config key 'rest.address'"), bad.output)
    }

    // MARK: helpers

    final class Statuses: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Int] = []
        func add(_ status: Int) { lock.lock(); list.append(status); lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return list }
    }

    static func object(_ body: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(body)")
        }
        return object
    }

    static func json(_ rest: HostPort, _ path: String) throws -> (status: Int, object: [String: Any]) {
        let (status, body) = try HTTPGet.request(rest, path: path)
        return (status, try object(body))
    }

    /// Sends `request` as it is and returns everything the server wrote back.
    static func raw(_ rest: HostPort, _ request: String) throws -> String {
        let fd = try BlockingSocket.connect(try rest.resolve().first!, timeoutSeconds: 5)
        defer { close(fd) }
        try BlockingSocket.writeAll(fd, Array(request.utf8))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
