import Foundation
import Glibc
import Weft

/// A minimal blocking HTTP/1.1 GET for the operator commands (status, tests).
public enum HTTPGet {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The body of `GET path`; throws unless the status is 200.
    public static func fetch(_ target: HostPort, path: String, timeoutSeconds: Int = 5) throws -> String {
        let (status, body) = try request(target, path: path, timeoutSeconds: timeoutSeconds)
        guard status == 200 else { throw Failure(description: "HTTP \(status): \(body.prefix(200))") }
        return body
    }

    public static func request(_ target: HostPort, path: String, method: String = "GET", body: String? = nil,
                               timeoutSeconds: Int = 5) throws -> (Int, String) {
        guard let address = try target.resolve().first else { throw Failure(description: "cannot resolve \(target)") }
        let fd = try BlockingSocket.connect(address, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        let content = body.map { "Content-Type: application/json\r\nContent-Length: \($0.utf8.count)\r\n" } ?? ""
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(target)\r\n\(content)Connection: close\r\n\r\n\(body ?? "")".utf8)
        try BlockingSocket.writeAll(fd, request)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP response") }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, String(text[split.upperBound...]))
    }
}
