import CWeftLinux
import Foundation
import Glibc
import Weft
import XCTest

/// Every `peer.socket.*` knob lands on the listening, accepted and dialed
/// sockets: read back with getsockopt from this process's own descriptors.
final class SocketOptionTests: XCTestCase {
    private let knobs: [String: String] = [
        "peer.socket.tcpNoDelay": "true",
        "peer.socket.sendBuffer": "65536",
        "peer.socket.receiveBuffer": "131072",
        "peer.socket.keepalive.enabled": "true",
        "peer.socket.keepalive.idle": "45s",
        "peer.socket.keepalive.interval": "7s",
        "peer.socket.keepalive.count": "4",
        "peer.socket.reuseAddress": "true",
        "peer.socket.reusePort": "true",
        "peer.socket.userTimeout": "20s",
        "peer.socket.notSentLowat": "16384",
        "peer.socket.lingerSeconds": "3",
    ]

    /// Sockets of this process whose local or remote port is `port`.
    private func sockets(localPort: UInt16? = nil, remotePort: UInt16? = nil) -> [Int32] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap(Int32.init).filter { fd in
            var local = sockaddr_in(), remote = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            guard withUnsafeMutablePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0,
                  local.sin_family == sa_family_t(AF_INET) else { return false }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let connected = withUnsafeMutablePointer(to: &remote, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }) == 0
            if let localPort, UInt16(bigEndian: local.sin_port) != localPort { return false }
            if let remotePort { return connected && UInt16(bigEndian: remote.sin_port) == remotePort }
            return true
        }
    }

    private func remotePort(_ fd: Int32) -> UInt16? {
        var remote = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafeMutablePointer(to: &remote, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }) == 0 else { return nil }
        return UInt16(bigEndian: remote.sin_port)
    }

    private func option(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 { Sockets.intOption(fd, level: level, name: name) ?? -1 }

    private func checkConnectionKnobs(_ fd: Int32, _ what: String) {
        let tcp = Int32(IPPROTO_TCP)
        XCTAssertEqual(option(fd, tcp, TCP_NODELAY), 1, "\(what) TCP_NODELAY")
        XCTAssertEqual(option(fd, SOL_SOCKET, SO_SNDBUF), 2 * 65536, "\(what) SO_SNDBUF (the kernel doubles it)")
        XCTAssertEqual(option(fd, SOL_SOCKET, SO_RCVBUF), 2 * 131072, "\(what) SO_RCVBUF")
        XCTAssertEqual(option(fd, SOL_SOCKET, SO_KEEPALIVE), 1, "\(what) SO_KEEPALIVE")
        XCTAssertEqual(option(fd, tcp, TCP_KEEPIDLE), 45, "\(what) TCP_KEEPIDLE")
        XCTAssertEqual(option(fd, tcp, TCP_KEEPINTVL), 7, "\(what) TCP_KEEPINTVL")
        XCTAssertEqual(option(fd, tcp, TCP_KEEPCNT), 4, "\(what) TCP_KEEPCNT")
        XCTAssertEqual(option(fd, tcp, TCP_USER_TIMEOUT), 20_000, "\(what) TCP_USER_TIMEOUT")
        XCTAssertEqual(option(fd, tcp, TCP_NOTSENT_LOWAT), 16384, "\(what) TCP_NOTSENT_LOWAT")
        var value = linger()
        var length = socklen_t(MemoryLayout<linger>.size)
        XCTAssertEqual(getsockopt(fd, SOL_SOCKET, SO_LINGER, &value, &length), 0)
        XCTAssertEqual(value.l_onoff, 1, "\(what) SO_LINGER on")
        XCTAssertEqual(value.l_linger, 3, "\(what) SO_LINGER seconds")
    }

    func testEveryKnobIsAppliedToListeningAcceptedAndDialedSockets() throws {
        let a = try InProcessPeer(name: "sock-a", consenter: EchoConsenter(), settings: knobs)
        let b = try InProcessPeer(name: "sock-b", consenter: EchoConsenter(), rootNode: a.node.boundAddress.description, settings: knobs)
        let portA = a.node.boundAddress.port
        let listener = try XCTUnwrap(sockets(localPort: portA).first { option($0, SOL_SOCKET, SO_ACCEPTCONN) == 1 })
        XCTAssertEqual(option(listener, SOL_SOCKET, SO_REUSEADDR), 1, "listener SO_REUSEADDR")
        XCTAssertEqual(option(listener, SOL_SOCKET, SO_REUSEPORT), 1, "listener SO_REUSEPORT")
        XCTAssertEqual(option(listener, SOL_SOCKET, SO_RCVBUF), 2 * 131072, "listener SO_RCVBUF")

        // The two ends of b's dial, found as a pair: a socket left over from an
        // earlier test may point at a port that `a` now reuses.
        func dialEnds() -> (accepted: Int32, dialed: Int32)? {
            for accepted in sockets(localPort: portA) where option(accepted, SOL_SOCKET, SO_ACCEPTCONN) == 0 {
                if let dialerPort = remotePort(accepted), let dialed = sockets(localPort: dialerPort, remotePort: portA).first {
                    return (accepted, dialed)
                }
            }
            return nil
        }
        // A dialed socket gets its options just after connect(), an accepted
        // one just after accept: the pair can be seen before that (it was,
        // under AddressSanitizer). SO_LINGER is the last option set.
        func lingerSet(_ fd: Int32) -> Bool {
            var value = linger()
            var length = socklen_t(MemoryLayout<linger>.size)
            return getsockopt(fd, SOL_SOCKET, SO_LINGER, &value, &length) == 0 && value.l_onoff == 1
        }
        try eventually("b dialed a, and both ends have their options") {
            dialEnds().map { lingerSet($0.accepted) && lingerSet($0.dialed) } ?? false
        }
        let (accepted, dialed) = try XCTUnwrap(dialEnds())
        checkConnectionKnobs(accepted, "accepted")
        checkConnectionKnobs(dialed, "dialed")
        withExtendedLifetime(b) {}
    }

    func testDefaultsTurnOptionalKnobsOff() throws {
        let a = try InProcessPeer(name: "sock-default", consenter: EchoConsenter())
        let port = a.node.boundAddress.port
        let client = try WireClient(a.node.boundAddress)
        var local = sockaddr_in()
        var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &localLength) } }
        let clientPort = UInt16(bigEndian: local.sin_port)
        // The peer's end of this client's connection (not a stale socket on a reused port).
        func acceptedEnd() -> Int32? {
            sockets(localPort: port, remotePort: clientPort).first { $0 != client.fd }
        }
        try eventually("accepted") { acceptedEnd() != nil }
        let accepted = try XCTUnwrap(acceptedEnd())
        XCTAssertEqual(option(accepted, Int32(IPPROTO_TCP), TCP_NODELAY), 1)
        XCTAssertEqual(option(accepted, Int32(IPPROTO_TCP), TCP_KEEPIDLE), 30)
        XCTAssertEqual(option(accepted, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT), 0)
        var value = linger()
        var length = socklen_t(MemoryLayout<linger>.size)
        getsockopt(accepted, SOL_SOCKET, SO_LINGER, &value, &length)
        XCTAssertEqual(value.l_onoff, 0)
    }
}
