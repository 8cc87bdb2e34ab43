import Foundation

/// An answer of the REST API: a status and a JSON body.
struct RESTResponse {
    let status: Int
    let body: [UInt8]
    /// 405: the methods the path takes.
    var allow: String?

    /// `object` as JSON (sorted keys, one line).
    init(status: Int, json object: Any) {
        self.status = status
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        body = Array(data) + [0x0A]
    }

    /// Fabric v0.6's error shape: `{"Error": "..."}`.
    static func error(_ status: Int, _ message: String) -> RESTResponse {
        RESTResponse(status: status, json: ["Error": message])
    }

    static let reasons: [Int: String] = [
        200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
        408: "Request Timeout", 413: "Content Too Large", 431: "Request Header Fields Too Large",
        500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    /// The whole HTTP/1.1 response (one request per connection: it closes).
    func encoded() -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(RESTResponse.reasons[status] ?? "Status")\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if let allow { head += "Allow: \(allow)\r\n" }
        head += "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
