import Foundation
import XCTest

/// The layers of docs/ARCHITECTURE.md, checked: no folder uses a folder the
/// rule does not allow, and no hand-written source file is over 400 lines.
final class LayerTests: XCTestCase {
    /// The package root: the first folder above this file that holds Package.swift.
    private static let root: URL = {
        var url = RepoRoot.url
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    private func realRule() throws -> LayerChecker.Rule {
        let document = try String(contentsOf: Self.root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        return try LayerChecker.parseRule(markdown: document)
    }

    private func realSources() throws -> [(path: String, text: String)] {
        let files = try LayerChecker.swiftFiles(below: Self.root.appendingPathComponent("Sources/Weft"))
        XCTAssertGreaterThan(files.count, 50, "the sources were found")
        return files
    }

    // MARK: the tree

    func testEveryUseFollowsTheLayerRule() throws {
        let checker = LayerChecker(rule: try realRule())
        let violations = checker.violations(in: try realSources())
        XCTAssertEqual(violations, [], "uses the rule of docs/ARCHITECTURE.md forbids:\n"
                       + violations.map(\.description).joined(separator: "\n"))
    }

    func testNoHandWrittenSourceFileIsOver400Lines() throws {
        var files = try realSources()
        files += try LayerChecker.swiftFiles(below: Self.root.appendingPathComponent("Sources/WeftTools"))
            .map { ("../WeftTools/" + $0.path, $0.text) }
        files += try LayerChecker.swiftFiles(below: Self.root.appendingPathComponent("Sources/weft"))
            .map { ("../weft/" + $0.path, $0.text) }
        let long = LayerChecker.longFiles(in: files, limit: 400, excluding: [])
        XCTAssertEqual(long, [], long.map(\.description).joined(separator: "\n"))
    }

    func testOnlyTheLinkLayerWritesAConnection() throws {
        let writes = LayerChecker.foreignWrites(in: try realSources(), typeFile: "Link/Connection.swift", ownerRoom: "Link")
        XCTAssertEqual(writes, [], writes.map(\.description).joined(separator: "\n"))
    }

    func testAConnectionWriteOutsideTheLinkLayerIsReported() {
        let connection = ("Link/Connection.swift", """
            final class Connection {
                private(set) var state = 0
                var paused = false
                var bytesIn = 0
                var unsent: Int { 0 }
            }
            """)
        let writes = LayerChecker.foreignWrites(in: [
            connection,
            ("Link/LinkIO.swift", "func pause(_ c: Connection) { c.paused = true }\n"),
            ("Node/Shutdown.swift", "func stop(_ c: Connection) {\n    if c.paused == true { c.bytesIn += 1 }\n    c.paused = false\n}\n"),
            ("Client/Own.swift", "struct Own {\n    var paused: Bool\n    init() { self.paused = false }\n}\n"),
        ], typeFile: "Link/Connection.swift", ownerRoom: "Link")
        XCTAssertEqual(writes.map(\.description), [
            "Sources/Weft/Node/Shutdown.swift:2: sets bytesIn of Link/Connection.swift outside Link/ (one owner per connection)",
            "Sources/Weft/Node/Shutdown.swift:3: sets paused of Link/Connection.swift outside Link/ (one owner per connection)",
        ])
    }

    func testAConnectionAndAPeerSessionChangeOnlyInTheirOwnFile() throws {
        let files = try realSources()
        for typeFile in ["Link/Connection.swift", "Peer/PeerSession.swift"] {
            let open = LayerChecker.openFields(in: files, typeFile: typeFile)
            XCTAssertEqual(open, [], open.map(\.description).joined(separator: "\n"))
        }
    }

    func testAFieldAnotherFileCouldSetIsReported() {
        let connection = ("Link/Connection.swift", """
            final class Connection {
                enum State { case open }
                private(set) var state = 0
                @exclusivity(unchecked) private(set) var bytesIn = 0
                private var secret = 0
                let fd: Int32 = 0
                static var count = 0
                @exclusivity(unchecked) var paused = false
                var unsent: Int { 0 }
                func reset() {
                    var local = 0
                    local += 1
                }
                var peer: String?
            }
            """)
        XCTAssertEqual(LayerChecker.openFields(in: [connection], typeFile: "Link/Connection.swift").map(\.description), [
            "Sources/Weft/Link/Connection.swift:8: paused may be set outside Link/Connection.swift (make it private(set) and change it through a method)",
            "Sources/Weft/Link/Connection.swift:14: peer may be set outside Link/Connection.swift (make it private(set) and change it through a method)",
        ])
    }

    /// The real tree with one upward use planted in it: the check names its
    /// file and line (and nothing else changes).
    func testAnUpwardUsePlantedInTheRealTreeIsReported() throws {
        let checker = LayerChecker(rule: try realRule())
        var files = try realSources()
        let before = Set(checker.violations(in: files).map(\.description))
        let index = try XCTUnwrap(files.firstIndex { $0.path == "Link/Connection.swift" })
        let lines = files[index].text.split(separator: "\n", omittingEmptySubsequences: false).count
        files[index].text += "extension Connection { var engine: ConsensusHandler? { nil } }\n"
        XCTAssertEqual(checker.violations(in: files).map(\.description).filter { !before.contains($0) }, [
            "Sources/Weft/Link/Connection.swift:\(lines): Link uses ConsensusHandler of Engine (Engine/ConsensusHandler.swift), which the rule does not allow",
        ])
    }

    // MARK: the checker itself, on a small tree

    private let miniRule = """
        intro

        <!-- layer-rule -->
        | room | may use | must never name |
        |---|---|---|
        | `*.swift` | | |
        | `Low` | | |
        | `High` | `Low` | |
        | `High/Pure` | `Low` | `Dispatch`, `Date` |
        | `NotYet` | `Low` | |

        <!-- upward-rule -->
        | file | may hold |
        |---|---|
        | `Low/Port.swift` | `Owner` |
        """

    private func miniChecker() throws -> LayerChecker { LayerChecker(rule: try LayerChecker.parseRule(markdown: miniRule)) }

    func testTheRuleIsReadFromItsTables() throws {
        let rule = try LayerChecker.parseRule(markdown: miniRule)
        XCTAssertEqual(rule.mayUse, ["*.swift": [], "Low": [], "High": ["Low"], "High/Pure": ["Low"], "NotYet": ["Low"]])
        XCTAssertEqual(rule.neverNames["High/Pure"], ["Dispatch", "Date"])
        XCTAssertEqual(rule.upward, ["Low/Port.swift": ["Owner"]])
        XCTAssertThrowsError(try LayerChecker.parseRule(markdown: "no tables here"))
    }

    func testAPlantedUpwardUseIsReportedWithFileAndLine() throws {
        let violations = try miniChecker().violations(in: [
            ("Top.swift", "public struct Shared {}\n"),
            ("Low/Thing.swift", "struct LowThing {\n    let shared: Shared\n}\n"),
            ("High/Service.swift", "final class HighService {\n    let low = LowThing(shared: Shared())\n}\n"),
            ("Low/Leak.swift", """
                // HighService in a comment is no use
                let text = "HighService in a string is none either"
                let service: HighService? = nil
                let described = "\\(HighService.self)"
                """),
        ])
        XCTAssertEqual(violations.map(\.description), [
            "Sources/Weft/Low/Leak.swift:3: Low uses HighService of High (High/Service.swift), which the rule does not allow",
            "Sources/Weft/Low/Leak.swift:4: Low uses HighService of High (High/Service.swift), which the rule does not allow",
        ])
    }

    func testNamesReachedThroughADotOrDeclaredInTheRoomAreNotUses() throws {
        XCTAssertEqual(try miniChecker().violations(in: [
            ("High/Node.swift", "final class Node {}\n"),
            ("Low/Config.swift", "import Yams\nstruct Config {\n    struct Node {}\n    let parsed: Yams.Node\n    let own: Node\n}\n"),
        ]), [])
    }

    func testTheLongestRoomWinsAndItsNeverNamesHold() throws {
        let violations = try miniChecker().violations(in: [
            ("Low/Clock.swift", "struct Clock {}\n"),
            ("High/Pure/Replica.swift", "import Dispatch\nstruct Replica {\n    let clock = Clock()\n    var at = Date()\n}\n"),
            ("Elsewhere/Stray.swift", "struct Stray {}\n"),
        ])
        XCTAssertEqual(violations.map(\.description), [
            "Sources/Weft/Elsewhere/Stray.swift:1: is in no room of the rule (add its folder to docs/ARCHITECTURE.md)",
            "Sources/Weft/High/Pure/Replica.swift:1: High/Pure must never name Dispatch",
            "Sources/Weft/High/Pure/Replica.swift:4: High/Pure must never name Date",
        ])
    }

    func testAnUpwardCallIsAllowedOnlyAsUpwardInItsListedFile() throws {
        let owner = ("High/Owner.swift", "final class Owner {}\n")
        XCTAssertEqual(try miniChecker().violations(in: [
            owner, ("Low/Port.swift", "final class Port {\n    let owner: Upward<Owner>\n    init(_ o: Owner) { owner = Upward(o) }\n}\n"),
        ]), [])
        XCTAssertEqual(try miniChecker().violations(in: [
            owner, ("Low/Port.swift", "final class Port {\n    let owner: Owner\n}\n"),
        ]).map(\.description), ["Sources/Weft/Low/Port.swift:2: Low may hold Owner only as Upward<Owner> (the upward-rule)"])
        XCTAssertEqual(try miniChecker().violations(in: [
            owner, ("Low/Other.swift", "final class Other {\n    let owner: Upward<Owner>\n}\n"),
        ]).map(\.description), ["Sources/Weft/Low/Other.swift:2: Low uses Owner of High (High/Owner.swift), which the rule does not allow"])
    }

    func testLongFilesAreNamedAndGeneratedOrExcludedOnesAreNot() {
        let long = String(repeating: "let x = 1\n", count: 401)
        let fine = String(repeating: "let x = 1\n", count: 400)
        XCTAssertEqual(LayerChecker.longFiles(in: [
            ("A/Long.swift", long), ("A/Fine.swift", fine), ("A/big.pb.swift", long), ("Skip/Long.swift", long),
        ], limit: 400, excluding: ["Skip"]).map(\.description), ["Sources/Weft/A/Long.swift:401: 401 lines, more than 400"])
    }
}
