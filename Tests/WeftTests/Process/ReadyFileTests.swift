import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// `weft node start --ready-file` and the scripts that read it instead of the
/// text log: they work whatever logging.format and logging.level say.
final class ReadyFileTests: XCTestCase {
    private var scripts: URL {
        RepoRoot.url.appendingPathComponent("scripts/cluster")
    }

    private func temporary(_ name: String) -> String {
        TestScratch.path("weft-\(name)")
    }

    func testTheReadyFileNamesThePidAndTheBoundAddressesAndGoesAtTheStop() throws {
        let ready = temporary("ready") + ".json"
        let peer = try CapturedProcess(PeerProcess.binary, [
            "node", "start", "--peer-id", "ready", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0",
            "--data-dir", temporary("ready-data"), "--consensus", "echo", "--ready-file", ready,
        ], environment: ["CORE_LOGGING_FORMAT": "json", "CORE_LOGGING_LEVEL": "error", "CORE_REST_ADDRESS": "127.0.0.1:0"], label: "peer ready")
        try eventually(timeout: 20, "the ready file appears") { FileManager.default.fileExists(atPath: ready) }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ready))) as? [String: Any])
        XCTAssertEqual(object["pid"] as? Int, Int(peer.process.processIdentifier))
        let listen = try XCTUnwrap(HostPort(object["listen"] as? String ?? ""), "\(object)")
        let ops = try XCTUnwrap(HostPort(object["operations"] as? String ?? ""), "\(object)")
        XCTAssertNotEqual(listen.port, 0)
        XCTAssertEqual(object["address"] as? String, listen.description)
        // The addresses are the live ones: a peer handshake and an operations read work.
        let (client, _) = try WireClient.handshaken(listen, name: "ready-client")
        try client.echoCheck(count: 3, tag: 1)
        XCTAssertTrue(try HTTPGet.fetch(ops, path: "/healthz").contains(#""peer":"ready""#))
        let rest = try XCTUnwrap(HostPort(object["rest"] as? String ?? ""), "\(object)")
        XCTAssertTrue(try HTTPGet.fetch(rest, path: "/network/peers").hasPrefix("{"), "the REST address is the live one")
        XCTAssertFalse(peer.log.contains("peer started"), "at level error the scripts have no start line to read")
        XCTAssertEqual(try peer.terminate(), 0, peer.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ready), "removed at a graceful stop")
    }

    func testAnUnwritableReadyFileStopsTheStartNamingTheFlag() throws {
        let run = try runWeft(["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "", "--data-dir", temporary("ready-bad"),
                               "--ready-file", "/nonexistent/dir/ready.json"])
        XCTAssertEqual(run.status, 64, run.output)
        XCTAssertTrue(run.output.contains("--ready-file"), run.output)
    }

    /// scripts/cluster/cluster.sh with JSON logs at level warning: no "peer started" text
    /// line to parse, and the mesh comes up all the same.
    private func runCluster(_ arguments: [String], until line: String) throws -> (CapturedProcess, [HostPort]) {
        let cluster = try CapturedProcess("/bin/bash", [scripts.appendingPathComponent("cluster.sh").path] + arguments,
                                          environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CORE_") }
                                              .merging(["WEFT_BIN": PeerProcess.binary, "CORE_LOGGING_FORMAT": "json",
                                                        "CORE_LOGGING_LEVEL": "warning"]) { $1 },
                                          label: "cluster.sh")
        try cluster.waitForLog(containing: line, timeout: 90)
        let ops = cluster.log.split(separator: "\n").compactMap { text -> HostPort? in
            guard text.hasPrefix("cluster: vp"), let range = text.range(of: "operations on ") else { return nil }
            return HostPort(String(text[range.upperBound...].prefix { $0 != "," }))
        }
        return (cluster, ops)
    }

    func testClusterScriptFormsTheMeshWithJSONLogsAtWarningAndRunsPBFTFromFour() throws {
        let (cluster, ops) = try runCluster(["4"], until: "cluster: running")
        defer { _ = try? cluster.terminate(timeout: 30) }
        XCTAssertFalse(cluster.log.contains("has not formed"), cluster.log)
        XCTAssertEqual(ops.count, 4, cluster.log)
        for i in 0..<4 { XCTAssertTrue(cluster.log.contains("peer vp\(i): 3 established"), cluster.log) }
        for address in ops {
            XCTAssertTrue(try HTTPGet.fetch(address, path: "/healthz").contains(#""consensus":"pbft""#), "four peers default to PBFT")
        }
        // The peers did log, as JSON lines.
        let work = try XCTUnwrap(cluster.log.split(separator: "\n").last { $0.hasPrefix("cluster: 4 peers; logs in ") }?.split(separator: " ").last)
        let vp0 = try String(contentsOfFile: "\(work)/vp0.log", encoding: .utf8)
        for line in vp0.split(separator: "\n") {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line))
        }
        XCTAssertEqual(try cluster.terminate(timeout: 30), 143, cluster.log)
    }

    func testClusterScriptRunsNoopsBelowFourPeers() throws {
        let (cluster, ops) = try runCluster(["2"], until: "cluster: running")
        defer { _ = try? cluster.terminate(timeout: 30) }
        XCTAssertEqual(ops.count, 2, cluster.log)
        for address in ops {
            XCTAssertTrue(try HTTPGet.fetch(address, path: "/healthz").contains(#""consensus":"noops""#))
        }
        XCTAssertTrue(cluster.log.contains("peer vp1: 1 established"), cluster.log)
    }
}
