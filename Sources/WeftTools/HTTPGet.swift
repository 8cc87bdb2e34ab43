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

/// Blocking client sockets for tools (not the reactor).
public enum BlockingSocket {
    public static func connect(_ address: SocketAddress, timeoutSeconds: Int) throws -> Int32 {
        let fd = try address.connectBlocking()
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw HTTPGet.Failure(description: "write: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }
}

/// `weft node status` output.
public enum PeerStatusTable {
    public static func render(json: String) throws -> String {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let peers = object["peers"] as? [[String: Any]] else {
            throw HTTPGet.Failure(description: "unexpected /peers answer")
        }
        let header = ["NAME", "ADDRESS", "TYPE", "DIRECTION", "SINCE", "BYTES IN", "BYTES OUT"]
        let rows = peers.map { p in
            ["name", "address", "type", "direction", "since", "bytesIn", "bytesOut"].map { "\(p[$0] ?? "")" }
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        let me = object["peer"] as? String ?? "?"
        return (["peer \(me): \(peers.count) established", line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
