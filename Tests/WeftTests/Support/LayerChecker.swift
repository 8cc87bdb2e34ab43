import Foundation

/// The dependency rule of docs/ARCHITECTURE.md, checked over a source tree.
///
/// The rule is read from the document itself (the tables between its
/// `<!-- layer-rule -->` and `<!-- upward-rule -->` markers), so the prose and
/// the check cannot drift. A *room* is a folder under `Sources/Weft` (the
/// longest matching row wins: `Consenters/PBFT/Core` before `Consenters`),
/// or a file pattern (`*.swift`: the files at the top; `Wire/*.pb.swift`: the
/// generated messages). Rows for folders that do not exist yet are allowed.
///
/// The check is textual, as a reader would do it: comments and string
/// literals are blanked (interpolations kept); each room's top-level
/// declarations (types, functions, constants) are collected; every other
/// identifier that names another room's declaration is a use of that room.
/// A name the using room declares itself (a nested `PeerConfig.Discovery`)
/// or reached through a dot (`Yams.Node`, `Logger.Message`) is not.
struct LayerChecker {
    struct Rule: Equatable {
        /// Room -> the rooms it may use (besides itself and the top files).
        var mayUse: [String: Set<String>]
        /// Room -> identifiers it must never name (modules, clock, file APIs).
        var neverNames: [String: Set<String>]
        /// File -> the names above its room it may hold as `Upward<Name>`.
        var upward: [String: Set<String>]
    }

    struct Violation: CustomStringConvertible, Equatable {
        let file: String
        let line: Int
        let message: String
        var description: String { "Sources/Weft/\(file):\(line): \(message)" }
    }

    static let everything = "everything"
    static let topFiles = "*.swift"

    let rule: Rule

    // MARK: the rule, from the document

    static func parseRule(markdown: String) throws -> Rule {
        var rule = Rule(mayUse: [:], neverNames: [:], upward: [:])
        for row in try tableRows(markdown, marker: "layer-rule") {
            guard row.count >= 2, let room = row[0].first else { throw RuleError("layer-rule row without a room: \(row)") }
            rule.mayUse[room] = Set(row[1])
            rule.neverNames[room] = Set(row.count > 2 ? row[2] : [])
        }
        for row in try tableRows(markdown, marker: "upward-rule") {
            guard row.count >= 2, let file = row[0].first else { throw RuleError("upward-rule row without a file: \(row)") }
            rule.upward[file] = Set(row[1])
        }
        guard !rule.mayUse.isEmpty else { throw RuleError("no layer-rule table") }
        return rule
    }

    struct RuleError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// The rows of the table after `<!-- marker -->`, each cell as its `code` items.
    private static func tableRows(_ markdown: String, marker: String) throws -> [[[String]]] {
        guard let start = markdown.range(of: "<!-- \(marker) -->") else { throw RuleError("no <!-- \(marker) --> in the document") }
        var rows: [[[String]]] = []
        var inTable = false, pastHeader = false
        for line in markdown[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("|") else { if inTable { break } else { continue } }
            inTable = true
            if text.hasPrefix("|--") || text.hasPrefix("| --") || text.hasPrefix("|:-") { pastHeader = true; continue }
            guard pastHeader else { continue }                       // the header row
            let cells = text.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            let items = cells.map { cell in
                cell.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.offset % 2 == 1 }.map { String($0.element) }
            }
            rows.append(Array(items))
        }
        return rows
    }

    // MARK: rooms

    /// The room of a file (a path below Sources/Weft): the longest matching row.
    func room(of path: String) -> String? {
        rule.mayUse.keys.filter { Self.matches($0, path) }.max { $0.count < $1.count }
    }

    static func matches(_ room: String, _ path: String) -> Bool {
        guard let star = room.firstIndex(of: "*") else { return path.hasPrefix(room + "/") }
        let directory = room[..<star]                      // "" or "Wire/"
        let suffix = room[room.index(after: star)...]      // ".swift" or ".pb.swift"
        guard path.hasPrefix(directory), path.hasSuffix(suffix) else { return false }
        return !path.dropFirst(directory.count).contains("/")
    }

    func may(_ user: String, use owner: String) -> Bool {
        if user == owner || owner == Self.topFiles { return true }
        let allowed = rule.mayUse[user] ?? []
        return allowed.contains(owner) || allowed.contains(Self.everything)
    }

    // MARK: the check

    /// Every use the rule forbids, in the files given as (path below Sources/Weft, text).
    func violations(in files: [(path: String, text: String)]) -> [Violation] {
        var found: [Violation] = []
        var owners: [String: (room: String, file: String)] = [:]
        var ownNames: [String: Set<String>] = [:]
        var sources: [(path: String, room: String, lines: [Substring])] = []
        for (path, text) in files.sorted(by: { $0.path < $1.path }) {
            guard let room = room(of: path) else {
                found.append(Violation(file: path, line: 1, message: "is in no room of the rule (add its folder to docs/ARCHITECTURE.md)"))
                continue
            }
            let lines = SwiftText.blankCommentsAndStrings(text).split(separator: "\n", omittingEmptySubsequences: false)
            let declared = SwiftText.declarations(lines)
            for name in declared.topLevel where owners[name] == nil { owners[name] = (room, path) }
            ownNames[room, default: []].formUnion(declared.all)
            sources.append((path, room, lines))
        }
        for (path, room, lines) in sources {
            let never = rule.neverNames[room] ?? []
            let upward = rule.upward[path] ?? []
            for (index, line) in lines.enumerated() {
                for name in SwiftText.identifiers(line) {
                    if never.contains(name) {
                        found.append(Violation(file: path, line: index + 1, message: "\(room) must never name \(name)"))
                        continue
                    }
                    guard let owner = owners[name], !may(room, use: owner.room),
                          !(ownNames[room]?.contains(name) ?? false) else { continue }
                    if upward.contains(name) {
                        if !lines.contains(where: { $0.contains("Upward<\(name)>") }) {
                            found.append(Violation(file: path, line: index + 1,
                                                   message: "\(room) may hold \(name) only as Upward<\(name)> (the upward-rule)"))
                        }
                        continue
                    }
                    found.append(Violation(file: path, line: index + 1,
                                           message: "\(room) uses \(name) of \(owner.room) (\(owner.file)), which the rule does not allow"))
                }
            }
        }
        return found
    }

    /// One owner per connection: the stored `var`s of the type declared in
    /// `typeFile` that any file may set (not `private(set)`), assigned in a
    /// file outside `ownerRoom`.
    static func foreignWrites(in files: [(path: String, text: String)], typeFile: String, ownerRoom: String) -> [Violation] {
        guard let declaration = files.first(where: { $0.path == typeFile }) else {
            return [Violation(file: typeFile, line: 1, message: "not found")]
        }
        let fields = Set(declaration.text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "(" || $0 == ")") })
            guard let v = words.firstIndex(of: "var"), v + 1 < words.count, !words[..<v].contains("private(set)"),
                  !words[..<v].contains("private"), !line.contains("{") else { return nil }
            return String(words[v + 1])
        })
        var found: [Violation] = []
        for file in files.sorted(by: { $0.path < $1.path }) where !file.path.hasPrefix(ownerRoom + "/") {
            let lines = SwiftText.blankCommentsAndStrings(file.text).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                for field in fields where SwiftText.assigns(line, member: field) {
                    found.append(Violation(file: file.path, line: index + 1,
                                           message: "sets \(field) of \(typeFile) outside \(ownerRoom)/ (one owner per connection)"))
                }
            }
        }
        return found
    }

    /// One owner per connection, by construction: the stored `var`s of the
    /// type declared in `typeFile` that another file could set (neither
    /// `private` nor `private(set)`). Only the type's own members count
    /// (depth one), not a method's locals or a nested type's fields.
    static func openFields(in files: [(path: String, text: String)], typeFile: String) -> [Violation] {
        guard let declaration = files.first(where: { $0.path == typeFile }) else {
            return [Violation(file: typeFile, line: 1, message: "not found")]
        }
        var found: [Violation] = []
        var depth = 0
        for (index, line) in SwiftText.blankCommentsAndStrings(declaration.text).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "(" || $0 == ")") })
            if depth == 1, let v = words.firstIndex(of: "var"), v + 1 < words.count, !words[..<v].contains("private(set)"),
               !words[..<v].contains("private"), !words[..<v].contains("static"), !line.contains("{") {
                found.append(Violation(file: typeFile, line: index + 1,
                                       message: "\(words[v + 1]) may be set outside \(typeFile) (make it private(set) and change it through a method)"))
            }
            for c in line.utf8 {
                if c == UInt8(ascii: "{") { depth += 1 } else if c == UInt8(ascii: "}") { depth -= 1 }
            }
        }
        return found
    }

    /// Hand-written files (not `*.pb.swift`) over `limit` lines, outside the excluded folders.
    static func longFiles(in files: [(path: String, text: String)], limit: Int, excluding: [String]) -> [Violation] {
        files.sorted { $0.path < $1.path }.compactMap { file in
            guard !file.path.hasSuffix(".pb.swift"), !excluding.contains(where: { file.path.hasPrefix($0 + "/") }) else { return nil }
            let count = file.text.split(separator: "\n", omittingEmptySubsequences: false).count - (file.text.hasSuffix("\n") ? 1 : 0)
            return count > limit ? Violation(file: file.path, line: limit + 1, message: "\(count) lines, more than \(limit)") : nil
        }
    }

    /// The Swift files below `directory`, as (path relative to it, text).
    static func swiftFiles(below directory: URL) throws -> [(path: String, text: String)] {
        let base = directory.standardizedFileURL.path + "/"
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        return try walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.map { url in
            (String(url.standardizedFileURL.path.dropFirst(base.count)), try String(contentsOf: url, encoding: .utf8))
        }
    }
}
