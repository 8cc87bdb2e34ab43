import Foundation
import CWeftLinux
import Glibc
import Logging

/// HTTP/1.1 GET `/metrics` (Prometheus text), `/healthz`, `/version`, `/peers`
/// and GET/PUT `/logspec` (JSON), over TLS with `operations.tls.enabled`,
/// served by the reactor itself: one request per connection, answered and
/// closed. It reads reactor state directly, on the reactor thread.
final class OperationsServer: EventHandler {
    /// The node owns this server; its reports are read on the reactor thread.
    private let node: Upward<Node>
    let loop: EventLoop
    private let logger: Logger
    let fd: Int32
    let boundAddress: HostPort
    private var clients: [Int32: OperationsConnection] = [:]
    let access: OperationsAccess
    static let maxRequestBytes = 8192

    init(node: Node, address: String) throws {
        guard let target = HostPort(address, allowPortZero: true) else {
            throw ConfigError(key: "peer.operations.listenAddress", reason: "'\(address)' is not host:port")
        }
        access = try OperationsAccess(node.config.operationsTLS)
        self.node = Upward(node)
        loop = node.loop
        logger = node.logger
        var options = SocketOptions()
        options.backlog = 64
        do {
            fd = try Sockets.listen(on: target, options: options) { _ in }
        } catch {
            throw ConfigError(key: "peer.operations.listenAddress", reason: "\(error)")
        }
        boundAddress = SocketAddress.local(of: fd)?.hostPort ?? target
    }

    private var closed = false

    func register() throws { try loop.register(fd, events: Readiness.readable, handler: self) }

    func close() {
        closed = true
        loop.unregister(fd)
        Syscall.close(fd)
        for client in clients.values { finish(client) }
    }

    func handleEvents(_ events: UInt32) {
        for _ in 0..<16 {
            let client: Int32
            switch Syscall.accept(fd) {
            case .accepted(let accepted): client = accepted
            case .none: return
            case .outOfDescriptors, .failed:
                // Out of descriptors (or worse): stop accepting for 100 ms rather than spin on a ready listener.
                loop.modify(fd, events: 0)
                loop.schedule(afterNanos: 100_000_000) { [weak self] in
                    if let self, !self.closed { self.loop.modify(self.fd, events: Readiness.readable) }
                }
                return
            }
            let handler: OperationsConnection
            do {
                handler = try OperationsConnection(fd: client, server: self, tls: access.tls)
            } catch {
                logger.warning("operations: cannot start TLS: \(error)")
                Syscall.close(client)
                continue
            }
            clients[client] = handler
            do { try loop.register(client, events: Readiness.readable, handler: handler) } catch { finish(handler) }
            loop.schedule(afterNanos: 5_000_000_000) { [weak handler, weak self] in
                if let handler, let self, self.clients[handler.fd] === handler { self.finish(handler) }
            }
        }
    }

    func finish(_ client: OperationsConnection) {
        guard clients[client.fd] === client else { return }
        clients[client.fd] = nil
        loop.unregister(client.fd)
        Syscall.close(client.fd)
    }

    typealias Answer = (status: String, type: String, body: String)

    /// The answer to one request, from a client whose certificate (over TLS) is `certificate`.
    func respond(method: String, path: String, body: [UInt8], certificate: TLSSession.CertificateVerdict = .none) -> Answer {
        let route = path.split(separator: "?").first.map(String.init) ?? path
        if let refusal = access.refusal(method: method, route: route, certificate: certificate) { return refusal }
        let json = "application/json"
        if route == "/logspec" {
            switch method {
            case "GET": return ("200 OK", json, OperationsJSON.encode(["spec": WeftLogging.level.rawValue]))
            case "PUT": return putLogSpec(body)
            default: return ("405 Method Not Allowed", json, OperationsJSON.encode(["error": "/logspec takes GET or PUT"]))
            }
        }
        guard method == "GET" else { return ("405 Method Not Allowed", "text/plain", "\(route): only GET\n") }
        switch route {
        case "/metrics": return ("200 OK", "text/plain; version=0.0.4", node { $0.prometheusText() })
        case "/healthz":
            let health = node { $0.healthJSON() }
            return (health.healthy ? "200 OK" : "503 Service Unavailable", json, health.body)
        case "/version": return ("200 OK", json, node { $0.versionJSON() })
        case "/peers": return ("200 OK", json, node { $0.peersJSON() })
        default: return ("404 Not Found", "text/plain", "not found: try /metrics, /healthz, /version, /logspec or /peers\n")
        }
    }

    /// PUT /logspec `{"spec":"debug"}` (Fabric's form): the level of every logger, now.
    private func putLogSpec(_ body: [UInt8]) -> Answer {
        let json = "application/json"
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let spec = object["spec"] as? String else {
            return ("400 Bad Request", json, OperationsJSON.encode(["error": "the body must be JSON like {\"spec\":\"debug\"}"]))
        }
        guard let level = LogLevels.parse(spec.trimmingCharacters(in: .whitespaces)) else {
            return ("400 Bad Request", json, OperationsJSON.encode(["error": "'\(spec)' is not a log level (trace, debug, info, notice, warning, error, critical)"]))
        }
        let before = WeftLogging.level
        WeftLogging.level = level
        // Logged at notice (or above, so that it shows whatever the new level).
        logger.log(level: max(level, .notice), "log level changed by PUT /logspec",
                   metadata: ["from": "\(before.rawValue)", "to": "\(level.rawValue)"])
        return ("204 No Content", json, "")
    }
}
