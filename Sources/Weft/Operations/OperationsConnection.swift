import Foundation
import CWeftLinux
import Glibc
import Logging

/// One HTTP connection: read the request head, write the response, close.
final class OperationsConnection: EventHandler {
    let fd: Int32
    private let server: Upward<OperationsServer>
    private var request: [UInt8] = []
    private var response: [UInt8] = []
    private var written = 0

    init(fd: Int32, server: OperationsServer) {
        self.fd = fd
        self.server = Upward(server)
    }

    func handleEvents(_ events: UInt32) {
        if !response.isEmpty { writeResponse(); return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        switch buffer.withUnsafeMutableBytes({ Syscall.receive(fd, into: $0.baseAddress, count: $0.count) }) {
        case .bytes(let n): request += buffer[0..<n]
        case .wouldBlock: return
        case .endOfStream, .failed: server { $0.finish(self) }; return
        }
        guard let end = request.firstRange(of: [13, 10, 13, 10]) ?? request.firstRange(of: [10, 10]) else {
            if request.count > OperationsServer.maxRequestBytes { reply(("431 Request Header Fields Too Large", "text/plain", "request too large\n")) }
            return
        }
        let head = String(decoding: request[..<end.lowerBound], as: UTF8.self)
        let lines = head.split { $0 == "\r\n" || $0 == "\n" }        // "\r\n" is one Character
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { reply(("400 Bad Request", "text/plain", "bad request line\n")); return }
        var length = 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length" else { continue }
            guard let value = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)), value >= 0 else {
                reply(("400 Bad Request", "text/plain", "bad Content-Length\n")); return
            }
            length = value
        }
        guard length <= OperationsServer.maxRequestBytes else { reply(("413 Content Too Large", "text/plain", "body too large\n")); return }
        let bodyStart = end.upperBound
        guard request.count - bodyStart >= length else { return }     // the rest of the body is still coming
        reply(server { $0.respond(method: String(parts[0]), path: String(parts[1]), body: Array(request[bodyStart..<(bodyStart + length)])) })
    }

    private func reply(_ answer: (status: String, type: String, body: String)) {
        let body = Array(answer.body.utf8)
        let head = "HTTP/1.1 \(answer.status)\r\nContent-Type: \(answer.type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        response = Array(head.utf8) + body
        writeResponse()
    }

    private func writeResponse() {
        while written < response.count {
            let outcome = response.withUnsafeMutableBytes { bytes -> Syscall.WriteOutcome in
                var piece = iovec(iov_base: bytes.baseAddress! + written, iov_len: bytes.count - written)
                return Syscall.sendGathered(fd, &piece, count: 1)
            }
            switch outcome {
            case .sent(let n) where n > 0: written += n; continue
            case .wouldBlock:
                server { $0.loop.modify(fd, events: Readiness.writable) }
                return
            case .sent, .failed: break
            }
            break
        }
        server { $0.finish(self) }
    }
}
