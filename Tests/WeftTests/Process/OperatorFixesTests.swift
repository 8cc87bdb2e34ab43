import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// What a reading of the operator's side found wrong (issue 23): each is
/// checked on the real binary.
final class OperatorFixesTests: XCTestCase {
    func testStatusOfAnUnreachablePeerSaysSoAndExitsOne() throws {
        let port = try TestSockets.freePorts(1)[0]
        let run = try runWeft(["node", "status", "--ops", "127.0.0.1:\(port)"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.contains("cannot reach the operations endpoint at 127.0.0.1:\(port)"), run.output)
        XCTAssertFalse(run.output.contains("Usage:"), "not a usage error: \(run.output)")
        // A malformed flag still is one.
        XCTAssertEqual(try runWeft(["node", "status", "--ops", "nowhere"]).status, 64)
    }

    func testTextLogTimestampsCarryMilliseconds() throws {
        let peer = try PeerProcess(name: "millis")
        let started = try peer.waitForLog(containing: "peer started")
        let stamp = String(started.prefix { $0 != " " })
        XCTAssertNotNil(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$"#, options: .regularExpression), started)
    }

    func testLogLevelHelpNamesEveryLevel() throws {
        let help = try runWeft(["node", "start", "--help"])
        XCTAssertEqual(help.status, 0, help.output)
        let flag = try XCTUnwrap(help.output.range(of: "  --log-level <"), help.output)
        let text = help.output[flag.lowerBound...].prefix(400)
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            XCTAssertTrue(text.contains(level), "--log-level help lacks \(level): \(text)")
        }
    }
}
