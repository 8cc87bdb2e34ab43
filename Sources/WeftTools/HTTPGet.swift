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
        try fetch(target, path: path, timeoutSeconds: timeoutSeconds, tls: nil)
    }

    public static func request(_ target: HostPort, path: String, method: String = "GET", body: String? = nil,
                               timeoutSeconds: Int = 5) throws -> (Int, String) {
        try request(target, path: path, method: method, body: body, timeoutSeconds: timeoutSeconds, tls: nil)
    }

    /// `fetch`, over TLS 1.3 with `tls` (nil: plain).
    package static func fetch(_ target: HostPort, path: String, timeoutSeconds: Int = 5, tls: TLSContext?) throws -> String {
        let (status, body) = try request(target, path: path, timeoutSeconds: timeoutSeconds, tls: tls)
        guard status == 200 else { throw Failure(description: "HTTP \(status): \(body.prefix(200))") }
        return body
    }

    /// `request`, over TLS 1.3 with `tls` (nil: plain).
    package static func request(_ target: HostPort, path: String, method: String = "GET", body: String? = nil,
                                timeoutSeconds: Int = 5, tls: TLSContext?) throws -> (Int, String) {
        guard let address = try target.resolve().first else { throw Failure(description: "cannot resolve \(target)") }
        let fd = try BlockingSocket.connect(address, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        let content = body.map { "Content-Type: application/json\r\nContent-Length: \($0.utf8.count)\r\n" } ?? ""
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(target)\r\n\(content)Connection: close\r\n\r\n\(body ?? "")".utf8)
        let response = try tls.map { try exchangeTLS(fd, request, $0, timeoutSeconds: timeoutSeconds) } ?? exchange(fd, request)
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP response") }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, String(text[split.upperBound...]))
    }

    /// Sends the request and reads the response to the end of the stream.
    private static func exchange(_ fd: Int32, _ request: [UInt8]) throws -> [UInt8] {
        try BlockingSocket.writeAll(fd, request)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        return response
    }

    /// The same over TLS 1.3 (the operations listener with operations.tls.enabled).
    private static func exchangeTLS(_ fd: Int32, _ request: [UInt8], _ context: TLSContext, timeoutSeconds: Int) throws -> [UInt8] {
        let session = try BlockingTLS.handshake(fd: fd, context: context, timeoutSeconds: timeoutSeconds)
        try BlockingTLS.send(fd: fd, session: session, request)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: TLSSession.maxRecordSize)
        while true {
            switch buffer.withUnsafeMutableBytes({ session.read(into: $0) }) {
            case .bytes(let n): response += buffer[0..<n]
            case .closed: return response
            case .failed(let why): throw Failure(description: "TLS: \(why)")
            case .needInput:
                do { try BlockingTLS.receive(fd: fd, session: session) } catch let error as TLSFailure where error.description == "EOF" {
                    return response         // closed without close_notify: what came is the answer
                }
            }
        }
    }
}
