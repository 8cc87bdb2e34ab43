import Foundation
import Weft
import XCTest

/// FABRIC_LOGGING_SPEC on a real start: its level filters the log, and the
/// terms Weft cannot apply are named in a warning.
final class FabricLoggingSpecStartTests: XCTestCase {
    func testTheSpecsLevelFiltersTheLogAndItsLoggerTermsAreWarnedAbout() throws {
        let dir = TestScratch.path("weft-fabspec")
        let ready = dir + ".ready"
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CORE_") && $0.key != "FABRIC_CFG_PATH" }
            .merging([FabricLoggingSpec.variable: "gossip=debug:WARNING"]) { $1 }
        let peer = try CapturedProcess(PeerProcess.binary, [
            "node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "", "--data-dir", dir, "--consensus", "echo", "--ready-file", ready,
        ], environment: environment, label: "peer fabspec")
        try peer.waitForLog(containing: "FABRIC_LOGGING_SPEC: 'gossip=debug'", timeout: 20)
        try eventually(timeout: 20, "the peer is up") { FileManager.default.fileExists(atPath: ready) }
        XCTAssertEqual(try peer.terminate(), 0, peer.log)
        XCTAssertFalse(peer.log.contains("peer started"), "info lines are below the spec's level: \(peer.log)")
    }

    func testAnUnknownLevelInTheSpecStopsTheStartNamingIt() throws {
        let run = try runProcess(PeerProcess.binary, ["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", ""],
                                 environment: [FabricLoggingSpec.variable: "info:msp=chatty"])
        XCTAssertEqual(run.status, 64, run.output)
        XCTAssertTrue(run.output.contains("FABRIC_LOGGING_SPEC") && run.output.contains("'chatty'"), run.output)
    }
}
