import Foundation
import CWeftLinux
import Glibc

/// systemd's readiness protocol without libsystemd (sd_notify(3)): one
/// datagram, `READY=1` or `STOPPING=1`, to the AF_UNIX socket named by
/// `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
public enum SystemdNotify {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case badAddress(String)
        case system(call: String, socket: String, reason: String)
        public var description: String {
            switch self {
            case .badAddress(let address): return "NOTIFY_SOCKET '\(address)' is not an absolute path or an @abstract name (or is too long)"
            case .system(let call, let socket, let reason): return "sd_notify: \(call) \(socket): \(reason)"
            }
        }
    }

    /// Sends `state` (for example `READY=1`) when `$NOTIFY_SOCKET` is set.
    /// Returns false when it is not (not run by systemd with Type=notify).
    @discardableResult
    public static func send(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Failure) -> Bool {
        guard let target = environment["NOTIFY_SOCKET"], !target.isEmpty else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(target.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        guard abstract || path.first == UInt8(ascii: "/") else { throw .badAddress(target) }
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { throw .badAddress(target) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        // An abstract name's length is exact (no NUL); a path's includes its NUL.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", socket: target, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length) }
            }
        }
        guard sent == bytes.count else { throw .system(call: "sendto", socket: target, reason: String(cString: strerror(errno))) }
        return true
    }
}
