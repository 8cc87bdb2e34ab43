import Foundation
import XCTest

/// The README's quickstart, its five lines run as written: in a copy of the
/// checkout (its own `.build`: `swift test` holds this one's), a release
/// build, four PBFT validators from scripts/cluster/cluster.sh (the line that ends in
/// `&` runs in the background until the mesh is up), one transaction sent
/// and waited for, then read back through the REST API by txid and by block.
final class QuickstartTests: XCTestCase {
    /// The indented command lines under "## Quickstart" in README.md.
    static func quickstartCommands() throws -> [String] {
        let readme = try String(contentsOf: RepoRoot.url.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "\n## Quickstart").dropFirst().first, "README has a Quickstart section")
        var commands: [String] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.hasPrefix("## ") { break }
            if line.hasPrefix("    ") { commands.append(line.trimmingCharacters(in: .whitespaces)) } else if !commands.isEmpty && !line.isEmpty { break }
        }
        return commands
    }

    func testTheReadmeQuickstartRunsAsWritten() throws {
        let commands = try Self.quickstartCommands()
        XCTAssertLessThanOrEqual(commands.count, 5, "the quickstart promises at most five commands: \(commands)")
        XCTAssertEqual(commands.count, 5, "\(commands)")
        let copy = RepoRoot.url.appendingPathComponent(".build/quickstart").path
        // The tracked files as they are now; the copy's .build is kept, so a second run builds little.
        let copied = try runProcess("/bin/bash", ["-c", "mkdir -p '\(copy)' && cd '\(copy)' && find . -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} + "
                                                  + "&& cd '\(RepoRoot.url.path)' && git ls-files -z | xargs -0 cp --parents -t '\(copy)'"])
        XCTAssertEqual(copied.status, 0, copied.output)
        func run(_ command: String) throws -> (status: Int32, output: String) {
            try runProcess("/bin/bash", ["-c", "cd '\(copy)' && \(command)"], environment: ["WEFT_BIN": ""])
        }
        let build = try run(commands[0])
        XCTAssertEqual(build.status, 0, "\(commands[0])\n\(build.output.suffix(3000))")

        XCTAssertTrue(commands[1].hasSuffix("&"), commands[1])
        let background = String(commands[1].dropLast()).trimmingCharacters(in: .whitespaces)
        let cluster = try CapturedProcess("/bin/bash", ["-c", "cd '\(copy)' && exec \(background)"],
                                          environment: ProcessInfo.processInfo.environment.merging(["WEFT_BIN": ""]) { $1 },
                                          label: "quickstart cluster")
        defer { _ = try? cluster.terminate(timeout: 20) }
        _ = try cluster.waitForLog(containing: "cluster: running", timeout: 120)

        let submitted = try run(commands[2])
        XCTAssertEqual(submitted.status, 0, submitted.output)
        XCTAssertTrue(submitted.output.contains("hello-1 committed"), submitted.output)
        let byTxid = try run(commands[3])
        XCTAssertEqual(byTxid.status, 0, byTxid.output)
        XCTAssertTrue(byTxid.output.contains(#""blockNumber""#) && byTxid.output.contains("hello-1"), byTxid.output)
        let byBlock = try run(commands[4])
        XCTAssertEqual(byBlock.status, 0, byBlock.output)
        let payload = Data("hello, weft".utf8).base64EncodedString()
        XCTAssertTrue(byBlock.output.contains("hello-1"), "the block holds the transaction: \(byBlock.output)")
        XCTAssertTrue(byBlock.output.contains(payload), "with its payload (base64): \(byBlock.output)")
        _ = try cluster.terminate(timeout: 20)
        XCTAssertTrue(cluster.log.contains("cluster: stopped"), cluster.log.suffix(2000).description)
    }
}
