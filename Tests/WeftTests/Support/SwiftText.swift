/// Just enough of Swift's lexical structure for the layer check: blank out
/// comments and string literals, find declarations and identifiers.
enum SwiftText {
    /// The text with comments and string literals replaced by spaces (line
    /// breaks kept, so line numbers hold); a string's `\( … )` interpolations
    /// stay, since they are code.
    static func blankCommentsAndStrings(_ text: String) -> String {
        let s = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(s.count)
        var i = 0
        func blank(_ b: UInt8) -> UInt8 { b == UInt8(ascii: "\n") ? b : UInt8(ascii: " ") }
        func at(_ j: Int, _ str: String) -> Bool {
            let u = Array(str.utf8)
            return j + u.count <= s.count && Array(s[j..<j + u.count]) == u
        }
        // Copies a string literal's interpolations, blanks the rest; returns the index after the literal.
        func literal(from start: Int, closing: String) -> Int {
            var j = start
            while j < s.count && !at(j, closing) {
                if s[j] == UInt8(ascii: "\\") && j + 1 < s.count && s[j + 1] == UInt8(ascii: "(") {
                    out += [32, 32]
                    var depth = 1
                    j += 2
                    while j < s.count && depth > 0 {
                        if s[j] == UInt8(ascii: "(") { depth += 1 }
                        if s[j] == UInt8(ascii: ")") { depth -= 1 }
                        out.append(depth == 0 ? 32 : s[j])
                        j += 1
                    }
                    continue
                }
                if s[j] == UInt8(ascii: "\\") && j + 1 < s.count { out += [32, blank(s[j + 1])]; j += 2; continue }
                out.append(blank(s[j]))
                j += 1
            }
            out += [UInt8](repeating: 32, count: min(closing.utf8.count, s.count - j))
            return j + closing.utf8.count
        }
        while i < s.count {
            if at(i, "//") {
                while i < s.count && s[i] != UInt8(ascii: "\n") { out.append(32); i += 1 }
            } else if at(i, "/*") {
                var depth = 0
                repeat {
                    if at(i, "/*") { depth += 1; out += [32, 32]; i += 2 }
                    else if at(i, "*/") { depth -= 1; out += [32, 32]; i += 2 }
                    else { out.append(blank(s[i])); i += 1 }
                } while depth > 0 && i < s.count
            } else if at(i, "\"\"\"") {
                out += [32, 32, 32]
                i = literal(from: i + 3, closing: "\"\"\"")
            } else if s[i] == UInt8(ascii: "\"") {
                out.append(32)
                i = literal(from: i + 1, closing: "\"")
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let keywords: Set<Substring> = ["class", "struct", "enum", "protocol", "actor", "typealias", "func", "let", "var"]
    private static let typeKeywords: Set<Substring> = ["class", "struct", "enum", "protocol", "actor", "typealias"]

    /// The names declared at the top level (outside every brace), and every
    /// type name declared at any depth.
    static func declarations(_ lines: [Substring]) -> (topLevel: Set<String>, all: Set<String>) {
        var topLevel = Set<String>(), all = Set<String>()
        var depth = 0
        for line in lines {
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") })
            if let k = words.firstIndex(where: { keywords.contains($0) }), k + 1 < words.count {
                let name = String(words[k + 1])
                if depth == 0 && !line.hasPrefix(" ") { topLevel.insert(name) }
                if typeKeywords.contains(words[k]) { all.insert(name) }
            }
            for c in line.utf8 {
                if c == UInt8(ascii: "{") { depth += 1 } else if c == UInt8(ascii: "}") { depth -= 1 }
            }
        }
        return (topLevel, all)
    }

    /// Whether the line assigns `.member` (`x.member = `, `+=`, `-=`, `&+=`,
    /// `&-=`, `|=`) of something other than `self` (a type's own property of
    /// the same name).
    static func assigns(_ line: Substring, member: String) -> Bool {
        var rest = line[...]
        while let dot = rest.range(of: "." + member) {
            let receiver = rest[..<dot.lowerBound].reversed().prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
            var after = rest[dot.upperBound...]
            rest = after
            if let next = after.first, next.isLetter || next.isNumber || next == "_" { continue }
            if String(receiver.reversed()) == "self" { continue }
            after = after.drop(while: { $0 == " " })
            for op in ["=", "+=", "-=", "&+=", "&-=", "|="] where after.hasPrefix(op) {
                if op == "=" && after.dropFirst().first == "=" { continue }
                return true
            }
        }
        return false
    }

    /// The identifiers of a line that are not reached through a dot (`a.b`: only `a`).
    static func identifiers(_ line: Substring) -> [String] {
        var names: [String] = []
        var current = ""
        var afterDot = false
        var previous: Character = " "
        for c in line + " " {
            if c.isLetter || c.isNumber || c == "_" {
                if current.isEmpty { afterDot = previous == "." }
                current.append(c)
            } else if !current.isEmpty {
                if !afterDot && !current.first!.isNumber { names.append(current) }
                current = ""
            }
            if c != " " { previous = c }
        }
        return names
    }
}
