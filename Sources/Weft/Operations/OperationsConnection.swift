import Foundation
import CWeftLinux
import Glibc
import Logging

/// One HTTP connection: read the request head, write the response, close.
/// With TLS (`operations.tls.enabled`) the bytes pass through a `TLSSession`:
/// handshake flights go out as they come, and the response is sealed whole.
final class OperationsConnection: EventHandler {
    let fd: Int32
    private let server: Upward<OperationsServer>
    private let tls: TLSSession?
    private var request: [UInt8] = []
    /// Bytes to send: handshake flights, then the (sealed) response.
    private var outgoing: [UInt8] = []
    private var written = 0
    /// The response is in `outgoing`: once it is sent, the connection closes.
    private var answered = false
    private var waitingToWrite = false

    init(fd: Int32, server: OperationsServer, tls context: TLSContext?) throws(TLSFailure) {
        self.fd = fd
        self.server = Upward(server)
        tls = try context.map { context throws(TLSFailure) in try TLSSession(context: context, role: .server) }
    }

    func handleEvents(_ events: UInt32) {
        if waitingToWrite { flush(); return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let received: Int
        switch buffer.withUnsafeMutableBytes({ Syscall.receive(fd, into: $0.baseAddress, count: $0.count) }) {
        case .bytes(let n): received = n
        case .wouldBlock: return
        case .endOfStream, .failed: server { $0.finish(self) }; return
        }
        if let tls {
            guard open(buffer[0..<received], with: tls) else { return }
        } else {
            request += buffer[0..<received]
        }
        guard !answered else { return }
        parseRequest()
    }

    /// Feeds ciphertext to the session, moves its handshake on and appends
    /// the plaintext it opens to `request`. False when there is nothing to
    /// parse yet (or the connection closed).
    private func open(_ ciphertext: ArraySlice<UInt8>, with tls: TLSSession) -> Bool {
        ciphertext.withUnsafeBytes { tls.feed($0) }
        if !tls.isEstablished {
            switch tls.handshake() {
            case .inProgress:
                send(tls)
                return false
            case .failed:
                answered = true         // OpenSSL's alert tells the client why, best effort; then close
                send(tls)
                return false
            case .done:
                send(tls)
            }
        }
        var plaintext = [UInt8](repeating: 0, count: TLSSession.maxRecordSize)
        while request.count <= OperationsServer.maxRequestBytes * 2 {
            switch plaintext.withUnsafeMutableBytes({ tls.read(into: $0) }) {
            case .bytes(let n): request += plaintext[0..<n]
            case .needInput: return true
            case .closed, .failed: server { $0.finish(self) }; return false
            }
        }
        return true
    }

    private func parseRequest() {
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
        let certificate = tls?.peerCertificateVerdict ?? .none
        reply(server { $0.respond(method: String(parts[0]), path: String(parts[1]),
                                  body: Array(request[bodyStart..<(bodyStart + length)]), certificate: certificate) })
    }

    private func reply(_ answer: OperationsServer.Answer) {
        let body = Array(answer.body.utf8)
        let head = "HTTP/1.1 \(answer.status)\r\nContent-Type: \(answer.type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let response = Array(head.utf8) + body
        answered = true
        guard let tls else {
            outgoing += response
            flush()
            return
        }
        guard response.withUnsafeBytes({ tls.write($0) }) else { server { $0.finish(self) }; return }
        tls.close()                 // close_notify after the response
        send(tls)
    }

    /// Queues the session's pending ciphertext and sends what it can.
    private func send(_ tls: TLSSession) {
        while case let pending = tls.pendingOutput, pending > 0 {
            let start = outgoing.count
            outgoing += repeatElement(0, count: pending)
            let n = outgoing.withUnsafeMutableBytes { tls.takeOutput(into: $0.baseAddress! + start, count: pending) }
            outgoing.removeLast(pending - n)
        }
        flush()
    }

    /// Writes `outgoing`; closes once the response is all sent. Waits for
    /// writability when the socket is full.
    private func flush() {
        while written < outgoing.count {
            let outcome = outgoing.withUnsafeMutableBytes { bytes -> Syscall.WriteOutcome in
                var piece = iovec(iov_base: bytes.baseAddress! + written, iov_len: bytes.count - written)
                return Syscall.sendGathered(fd, &piece, count: 1)
            }
            switch outcome {
            case .sent(let n) where n > 0:
                written += n
            case .wouldBlock:
                if !waitingToWrite { waitingToWrite = true; server { $0.loop.modify(fd, events: Readiness.writable) } }
                return
            case .sent, .failed:
                server { $0.finish(self) }
                return
            }
        }
        if answered { server { $0.finish(self) }; return }
        outgoing.removeAll(keepingCapacity: true)
        written = 0
        if waitingToWrite { waitingToWrite = false; server { $0.loop.modify(fd, events: Readiness.readable) } }
    }
}
