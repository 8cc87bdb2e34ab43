import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools

/// A blocking test client speaking the framed protocol over a real socket.
final class WireClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(_ target: HostPort, timeoutSeconds: Int = 10) throws {
        guard let address = try target.resolve().first else { throw TestFailure("cannot resolve \(target)") }
        fd = try BlockingSocket.connect(address, timeoutSeconds: timeoutSeconds)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    private var open = true
    /// Set by `secure`: every byte after goes through TLS.
    private(set) var tls: TLSSession?

    /// A TLS 1.3 client handshake on this connection.
    func secure(_ context: TLSContext) throws {
        tls = try BlockingTLS.handshake(fd: fd, context: context)
    }

    deinit { if open { close(fd) } }

    /// Closes with a TCP reset (SO_LINGER 0).
    func reset() {
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
        close(fd)
        open = false
    }

    static func hello(name: String, address: String = "127.0.0.1:1", type: Protos_PeerEndpoint.TypeEnum = .nonValidator) -> [UInt8] {
        var hello = Protos_HelloMessage()
        hello.peerEndpoint.id.name = name
        hello.peerEndpoint.address = address
        hello.peerEndpoint.type = type
        return frame(type: .discHello, payload: try! hello.serializedBytes())
    }

    static func frame(type: Protos_Message.TypeEnum, payload: [UInt8] = []) -> [UInt8] {
        var m = Protos_Message()
        m.type = type
        m.payload = Data(payload)
        return FrameFormat.frame(try! m.serializedBytes() as [UInt8])
    }

    /// Connects, says hello, and checks the peer's hello comes back.
    static func handshaken(_ target: HostPort, name: String, type: Protos_PeerEndpoint.TypeEnum = .nonValidator,
                           timeoutSeconds: Int = 10) throws -> (WireClient, Protos_HelloMessage) {
        let client = try WireClient(target, timeoutSeconds: timeoutSeconds)
        try client.write(hello(name: name, type: type))
        let reply = try client.readMessage()
        guard reply.type == .discHello else {
            throw TestFailure("expected DISC_HELLO, got \(reply.type) '\(String(decoding: reply.payload, as: UTF8.self))'")
        }
        return (client, try Protos_HelloMessage(serializedBytes: reply.payload))
    }

    func write(_ bytes: [UInt8]) throws {
        if let tls { try BlockingTLS.send(fd: fd, session: tls, bytes) } else { try BlockingSocket.writeAll(fd, bytes) }
    }

    /// The next frame's body; throws on EOF or timeout.
    func readFrameBody() throws -> [UInt8] {
        try fill(4)
        let n = Int(buffer.withUnsafeBytes { FrameFormat.loadLength($0.baseAddress!) })
        try fill(4 + n)
        let body = Array(buffer[4..<(4 + n)])
        buffer.removeFirst(4 + n)
        return body
    }

    func readMessage() throws -> Protos_Message {
        try Protos_Message(serializedBytes: try readFrameBody())
    }

    /// Reads until EOF; returns the frames that came before it. Throws if the
    /// connection is not closed within the socket timeout.
    func readUntilClosed() throws -> [Protos_Message] {
        var messages: [Protos_Message] = []
        while true {
            do { messages.append(try readMessage()) } catch let error as TestFailure where error.description == "EOF" {
                return messages
            }
        }
    }

    private func fill(_ count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.count < count, let tls {
            switch chunk.withUnsafeMutableBytes({ tls.read(into: $0) }) {
            case .bytes(let n): buffer += chunk[0..<n]
            case .closed: throw TestFailure("EOF")
            case .failed(let why): throw TestFailure("TLS: \(why)")
            case .needInput:
                do { try BlockingTLS.receive(fd: fd, session: tls) } catch let error as TLSFailure {
                    throw TestFailure(error.description)
                }
            }
        }
        while buffer.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw TestFailure("EOF") }
            if n < 0 {
                if errno == ECONNRESET { throw TestFailure("EOF") }
                throw TestFailure("read: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[0..<n]
        }
    }
}

extension WireClient {
    /// Sends `count` CONSENSUS frames in windows and checks each echo is the
    /// frame sent, byte for byte, in order.
    func echoCheck(count: Int, tag: UInt8, window: Int = 250) throws {
        var sent = 0
        while sent < count {
            let batch = min(window, count - sent)
            var bytes: [UInt8] = []
            var bodies: [[UInt8]] = []
            for i in sent..<(sent + batch) {
                let payload = [tag] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init) + Array(repeating: UInt8(i & 0xff), count: i % 64)
                let frame = WireClient.frame(type: .consensus, payload: payload)
                bodies.append(Array(frame[4...]))
                bytes += frame
            }
            try write(bytes)
            for expected in bodies {
                let got = try readFrameBody()
                guard got == expected else { throw TestFailure("echo mismatch on connection \(tag): got \(got.prefix(12)), want \(expected.prefix(12))") }
            }
            sent += batch
        }
    }
}
