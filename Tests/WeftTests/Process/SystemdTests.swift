import Foundation
import CWeftLinux
import Glibc
import Weft
import WeftTools
import XCTest

/// Type=notify without systemd: the peer's datagrams to a socket the test
/// opens (a path and an abstract name), and the unit checked by systemd-analyze.
final class SystemdTests: XCTestCase {
    /// An AF_UNIX datagram socket bound to `name` (`@…` = abstract namespace).
    private final class NotifyListener {
        let fd: Int32
        let name: String
        init(_ name: String) throws {
            self.name = name
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            let abstract = bytes.first == UInt8(ascii: "@")
            if abstract { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
            let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard rc == 0 else { throw TestFailure("bind \(name): \(String(cString: strerror(errno)))") }
        }
        deinit {
            close(fd)
            if !name.hasPrefix("@") { unlink(name) }
        }

        /// The next datagram, waiting at most `timeout` seconds.
        func receive(timeout: Int = 20) throws -> String {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { throw TestFailure("no datagram on \(name) within \(timeout) s") }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestFailure("recv: \(String(cString: strerror(errno)))") }
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    /// A port nobody listens on now.
    private func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, length) == 0, getsockname(fd, $0, &length) == 0 else { throw TestFailure("bind: \(errno)") }
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    private func checkReadyThenStopping(notifySocket: String) throws {
        let listener = try NotifyListener(notifySocket)
        let port = try freePort()
        let peer = try PeerProcess(name: "notified", listenPort: port, environment: ["NOTIFY_SOCKET": notifySocket],
                                   waitUntilStarted: false)
        let ready = try listener.receive()
        XCTAssertTrue(ready.split(separator: "\n").contains("READY=1"), ready)
        XCTAssertTrue(ready.contains("MAINPID=\(peer.process.processIdentifier)"), ready)
        // READY=1 means bound: the peer port takes a connection now, without waiting.
        do { _ = try WireClient(HostPort(host: "127.0.0.1", port: port), timeoutSeconds: 2) }
        try peer.waitStarted()
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/healthz").0, 200)
        kill(peer.process.processIdentifier, SIGTERM)
        let stopping = try listener.receive()
        XCTAssertTrue(stopping.split(separator: "\n").contains("STOPPING=1"), stopping)
        try eventually(timeout: 15, "the peer exits after SIGTERM") { !peer.process.isRunning }
        XCTAssertEqual(peer.process.terminationStatus, 0, peer.log)
    }

    func testReadyAndStoppingGoToAPathSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("weft-notify-\(UUID().uuidString.prefix(8))").path
        try checkReadyThenStopping(notifySocket: path)
    }

    func testReadyAndStoppingGoToAnAbstractSocket() throws {
        try checkReadyThenStopping(notifySocket: "@weft-notify-\(UUID().uuidString.prefix(8))")
    }

    func testAnUnusableNotifySocketIsLoggedNotFatal() throws {
        let peer = try PeerProcess(name: "badnotify", environment: ["NOTIFY_SOCKET": "relative/name"])
        try peer.waitForLog(containing: "NOTIFY_SOCKET 'relative/name' is not an absolute path or an @abstract name")
        XCTAssertEqual(try HTTPGet.request(peer.ops, path: "/healthz").0, 200)
    }

    func testTheUnitPassesSystemdAnalyzeVerify() throws {
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyze else { throw XCTSkip("systemd-analyze is not installed here (package systemd); the unit was not verified") }
        let root = RepoRoot.url
        let unit = try String(contentsOf: root.appendingPathComponent("deploy/weft.service"), encoding: .utf8)
        for line in ["Type=notify", "User=weft", "StateDirectory=weft", "Environment=CORE_PEER_FILESYSTEMPATH=/var/lib/weft",
                     "NoNewPrivileges=true", "ProtectSystem=strict", "ReadWritePaths=/var/lib/weft", "LimitNOFILE=65536"] {
            XCTAssertTrue(unit.split(separator: "\n").contains(Substring(line)), "the unit lacks \(line)")
        }
        // The state directory and the data directory the peer is told to use are the same.
        XCTAssertTrue(unit.contains("WorkingDirectory=/var/lib/weft"))
        // verify wants ExecStart to exist: point it at the binary under test.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("weft.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/weft", with: PeerProcess.binary).write(to: copy, atomically: true, encoding: .utf8)
        let run = try runProcess(analyze, ["verify", copy.path])
        XCTAssertEqual(run.status, 0, run.output)
        // It exits 0 on unknown keys and bad values too: it must say nothing at all.
        XCTAssertEqual(run.output.trimmingCharacters(in: .whitespacesAndNewlines), "", run.output)
        // A configuration error exits 64 (next test): systemd must not restart-loop on it.
        XCTAssertTrue(unit.split(separator: "\n").contains("RestartPreventExitStatus=64"))
        XCTAssertTrue(unit.split(separator: "\n").contains("Restart=on-failure"))
        XCTAssertNotNil(unit.range(of: #"# [^\n]*measured[^\n]*\n(#[^\n]*\n)*TimeoutStartSec=\d+\n"#, options: .regularExpression),
                        "the start timeout states the start-up it was measured against")
    }

    /// What RestartPreventExitStatus=64 relies on: every kind of configuration error exits 64
    /// (EX_USAGE) naming the key, and a failure at run time (the port taken) exits 1, so it is restarted.
    func testAConfigurationErrorExits64AndARuntimeFailureExits1() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-exit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "peer:\n  nosuchkey: 1\n".write(toFile: dir + "/unknown.yaml", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/a-file", atomically: true, encoding: .utf8)
        let base = ["node", "start", "--listen", "127.0.0.1:0", "--ops-listen", "", "--data-dir", dir + "/data"]
        let cases: [([String], String)] = [
            (["--set", "peer.id="], "config key 'peer.id'"),
            (["--config", dir + "/unknown.yaml"], "config key 'peer.nosuchkey': unknown key"),
            (["--config", dir + "/missing.yaml"], "config key '--config': cannot read"),
            (["--tls", "--tls-cert", dir + "/none.pem", "--tls-key", dir + "/none.key", "--tls-root-cert", dir + "/none.pem"], "config key 'peer.tls.cert.file'"),
            (["--consensus", "pbft", "--set", "pbft.general.N=4", "--set", "pbft.general.f=2"], "config key 'pbft.general.N'"),
            (["--data-dir", dir + "/a-file/data"], "config key 'peer.fileSystemPath'"),
        ]
        for (arguments, message) in cases {
            let run = try runWeft(base + arguments)
            XCTAssertEqual(run.status, 64, "\(arguments): \(run.output)")
            XCTAssertTrue(run.output.contains(message), "\(arguments): expected '\(message)' in \(run.output)")
        }
        let holder = try PeerProcess(name: "holder")   // its peer port is taken
        let busy = try runWeft(["node", "start", "--listen", holder.listen.description, "--ops-listen", "", "--data-dir", dir + "/data"])
        XCTAssertEqual(busy.status, 1, busy.output)
        XCTAssertTrue(busy.output.contains("Address already in use"), busy.output)
    }

    /// `weft testnet`'s unit is the packaged unit for one validator's folder: every other line the same.
    func testTheTestnetUnitIsThePackagedUnitForOneValidatorFolder() throws {
        let root = RepoRoot.url
        let packaged = try String(contentsOf: root.appendingPathComponent("deploy/weft.service"), encoding: .utf8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-unitnet-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(try runWeft(["testnet", "--validators", "4", "--hosts", "127.0.0.1:7051", "--out", dir]).status, 0)
        let generated = try String(contentsOfFile: dir + "/vp2/weft-vp2.service", encoding: .utf8)
        func directives(_ text: String) -> [String] {
            text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        let perValidator: Set<String> = ["Description", "Environment", "StateDirectory", "WorkingDirectory", "ExecStart", "ReadWritePaths"]
        func shared(_ lines: [String]) -> [String] { lines.filter { !perValidator.contains(String($0.prefix { $0 != "=" })) } }
        XCTAssertEqual(shared(directives(generated)), shared(directives(packaged)))
        let own = directives(generated)
        for line in ["StateDirectory=weft/vp2", "WorkingDirectory=/var/lib/weft/vp2", "ReadWritePaths=/var/lib/weft/vp2",
                     "ExecStart=/usr/local/bin/weft node start --config /var/lib/weft/vp2/core.yaml"] {
            XCTAssertTrue(own.contains(line), "the testnet unit lacks \(line)")
        }
        XCTAssertFalse(own.contains { $0.hasPrefix("Environment=") }, "core.yaml alone configures the validator")
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyze else { throw XCTSkip("systemd-analyze is not installed here (package systemd); the lines were compared, the unit not verified") }
        let copy = dir + "/weft-vp2.service"
        try generated.replacingOccurrences(of: "/usr/local/bin/weft", with: PeerProcess.binary).write(toFile: copy, atomically: true, encoding: .utf8)
        let run = try runProcess(analyze, ["verify", copy])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output.trimmingCharacters(in: .whitespacesAndNewlines), "", run.output)
    }
}

/// logging.format: json — one JSON object per line for log shippers.
final class LogFormatTests: XCTestCase {
    func testJSONLinesCarryTimeLevelLoggerMessageAndFields() throws {
        let peer = try PeerProcess(name: "jsonlog", settings: ["logging.format": "json"], waitUntilStarted: false)
        let line = try peer.waitForLog(containing: #""message":"peer started""#)
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let listen = try XCTUnwrap((fields["listen"] as? String).flatMap { HostPort($0) }, line)
        do { _ = try WireClient.handshaken(listen, name: "json-client") }
        try peer.waitForLog(containing: "closed json-client")
        let lines = peer.log.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 2)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            objects.append(try XCTUnwrap(object, "not a JSON object: \(line)"))
        }
        for object in objects {
            for key in ["time", "level", "logger", "message"] { XCTAssertNotNil(object[key] as? String, "\(key) in \(object)") }
        }
        let started = try XCTUnwrap(objects.first { $0["message"] as? String == "peer started" })
        XCTAssertEqual(started["level"] as? String, "info")
        XCTAssertEqual(started["logger"] as? String, "weft")
        XCTAssertEqual(started["peer"] as? String, "jsonlog", "the event's fields are top-level keys")
        XCTAssertEqual(started["consensus"] as? String, "echo")
        let time = try XCTUnwrap(started["time"] as? String)
        XCTAssertNotNil(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), time)
        let closed = try XCTUnwrap(objects.first { ($0["message"] as? String)?.hasPrefix("closed json-client") == true })
        XCTAssertEqual(closed["cause"] as? String, "peer_closed")
    }

    func testAnUnknownFormatNamesTheKey() throws {
        let run = try runWeft(["node", "start", "--set", "logging.format=xml", "--ops-listen", "", "--listen", "127.0.0.1:0"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("config key 'logging.format': 'xml' is not text or json"), run.output)
    }
}
