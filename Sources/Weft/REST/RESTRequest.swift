/// One HTTP/1.1 request to the REST API, read whole (head and body).
struct RESTRequest {
    let method: String
    /// The path without the query, percent-decoded.
    let path: String
    /// Query parameters, percent-decoded (the last of a repeated name wins).
    let query: [String: String]
    let body: [UInt8]

    init(method: String, target: String, body: [UInt8]) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = RESTRequest.percentDecoded(parts.first.map(String.init) ?? "/")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[RESTRequest.percentDecoded(String(kv[0]))] = kv.count > 1 ? RESTRequest.percentDecoded(String(kv[1])) : ""
            }
        }
        self.query = query
        self.body = body
    }

    /// `%XX` escapes (and `+` in queries as a space is not special here: Fabric's router did not either).
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
