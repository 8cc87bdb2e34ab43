import CWeftLinux
import Glibc

/// Reads one request from an accepted REST connection and writes its answer,
/// every wait bounded by one deadline: a client that sends slowly, or too
/// much, or never reads, costs only this connection (and its thread).
struct RESTConnection {
    static let maxHeadBytes = 8192

    let fd: Int32
    let deadline: UInt64
    let maxBodyBytes: Int

    enum Read {
        case request(RESTRequest)
        /// Answer this and close.
        case refuse(RESTResponse)
        /// The client left or ran out of time: close without a word.
        case gone
    }

    func readRequest() -> Read {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var headEnd: Range<Int>?
        while headEnd == nil {
            guard buffer.count <= RESTConnection.maxHeadBytes else {
                return .refuse(.error(431, "the request head is over \(RESTConnection.maxHeadBytes) bytes"))
            }
            switch receive(into: &chunk) {
            case .bytes(let n): buffer += chunk[..<n]
            case .ended: return .gone
            case .timedOut: return buffer.isEmpty ? .gone : .refuse(.error(408, "the request did not arrive in time"))
            }
            headEnd = buffer.firstRange(of: [13, 10, 13, 10])
        }
        guard headEnd!.lowerBound <= RESTConnection.maxHeadBytes else {
            return .refuse(.error(431, "the request head is over \(RESTConnection.maxHeadBytes) bytes"))
        }
        let head = String(decoding: buffer[..<headEnd!.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            return .refuse(.error(400, "malformed request line"))
        }
        var length = 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .refuse(.error(400, "malformed header line")) }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding" { return .refuse(.error(400, "chunked bodies are not taken: send Content-Length")) }
            if name == "content-length" {
                guard let n = Int(value), n >= 0 else { return .refuse(.error(400, "bad Content-Length '\(value.prefix(32))'")) }
                length = n
            }
        }
        guard length <= maxBodyBytes else { return .refuse(.error(413, "the body is \(length) bytes, over the \(maxBodyBytes) limit")) }
        var body = Array(buffer[headEnd!.upperBound...])
        while body.count < length {
            switch receive(into: &chunk) {
            case .bytes(let n): body += chunk[..<n]
            case .ended: return .gone
            case .timedOut: return .refuse(.error(408, "the body did not arrive in time"))
            }
        }
        return .request(RESTRequest(method: String(parts[0]), target: String(parts[1]), body: Array(body.prefix(length))))
    }

    /// Writes the answer (bounded by the deadline; a client that does not
    /// read is dropped). Not `patiently`: only what the socket takes at once.
    func write(_ response: RESTResponse, patiently: Bool = true) {
        let bytes = response.encoded()
        var sent = 0
        while sent < bytes.count, !patiently || wait(Int16(POLLOUT)) {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN && patiently { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Closes after the answer: our side first, then what the client still
    /// sends is read and dropped (briefly), so that closing with unread
    /// input does not reset the connection before the client read the answer.
    func close(lingerNanos: UInt64) {
        Syscall.shutdownWrite(fd)
        var chunk = [UInt8](repeating: 0, count: 4096)
        let lingering = extended(by: lingerNanos)
        while case .bytes = lingering.receive(into: &chunk) {}
        Syscall.close(fd)
    }

    /// The same connection with a new deadline `nanos` from now.
    func extended(by nanos: UInt64) -> RESTConnection {
        RESTConnection(fd: fd, deadline: MonotonicClock.now() + nanos, maxBodyBytes: maxBodyBytes)
    }

    private enum Received { case bytes(Int), ended, timedOut }

    private func receive(into chunk: inout [UInt8]) -> Received {
        while true {
            guard wait(Int16(POLLIN)) else { return .timedOut }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { return .bytes(n) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            return .ended
        }
    }

    private func wait(_ events: Int16) -> Bool { DeadlinePoll.wait(fd, events: events, deadline: deadline) }
}
