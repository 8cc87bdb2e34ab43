import Foundation
import Glibc
import XCTest

/// A SIGTERM that comes while the peer is still starting is neither lost nor
/// fatal: it waits in the signal descriptor made first thing, and the peer
/// stops gracefully (exit 0) once it is up.
final class SignalTests: XCTestCase {
    func testASIGTERMDuringStartUpStopsThePeerGracefully() throws {
        for round in 0..<3 {
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("weft-signal-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: data) }
            // An unknown CORE_ variable makes the peer log a warning right after it read its
            // configuration: before the node (and its threads, listeners, consenter) exists.
            let peer = try CapturedProcess(PeerProcess.binary, ["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "",
                                                                "--data-dir", data, "--consensus", "noops"],
                                           environment: ["CORE_SIGNAL_TEST_EARLY_LINE": "1", "CORE_REST_ENABLED": "false"],
                                           label: "early-signal-\(round)")
            _ = try peer.waitForLog(containing: "CORE_SIGNAL_TEST_EARLY_LINE", timeout: 30)
            kill(peer.process.processIdentifier, SIGTERM)
            let status = try peer.waitForExit(timeout: 30)
            XCTAssertEqual(status, 0, "round \(round): \(peer.log.suffix(2000))")
            XCTAssertTrue(peer.log.contains("stopping"), peer.log.suffix(2000).description)
        }
    }
}
