import Foundation
import Glibc
import XCTest

/// Network namespaces as hosts, as scripts/cluster/netns-cluster.sh makes them: each
/// with one address on a /24, joined by a bridge that lives in a namespace of
/// its own, so the machine's own interfaces and routes are never touched.
/// `init` throws XCTSkip (with the reason) where namespaces cannot be made
/// (not root, no iproute2, no permission); everything goes in `tearDown()`.
final class NetworkNamespaces {
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let tag = "wt\(getpid() % 100_000)x\(UInt16.random(in: 0...UInt16.max))"
    private(set) var hosts: [(namespace: String, address: String)] = []
    private var bridge: String { tag + "br" }

    /// `addresses` (e.g. 10.214.0.1...) on `prefix`/24, one namespace each.
    init(addresses: [String]) throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        guard let ip = NetworkNamespaces.ip else { throw XCTSkip("iproute2 (ip) is not installed") }
        let probe = try runProcess(ip, ["netns", "add", bridge])
        guard probe.status == 0 else { throw XCTSkip("ip netns add failed: \(probe.output)") }
        do {
            try run(["-n", bridge, "link", "add", "br0", "type", "bridge"])
            try run(["-n", bridge, "link", "set", "br0", "up"])
            for (i, address) in addresses.enumerated() {
                let namespace = "\(tag)n\(i)"
                try run(["netns", "add", namespace])
                hosts.append((namespace, address))
                try run(["link", "add", "v\(tag)\(i)", "netns", namespace, "type", "veth", "peer", "name", "p\(i)", "netns", bridge])
                try run(["-n", bridge, "link", "set", "p\(i)", "master", "br0", "up"])
                try run(["-n", namespace, "link", "set", "lo", "up"])
                try run(["-n", namespace, "link", "set", "v\(tag)\(i)", "name", "eth0"])
                try run(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
                try run(["-n", namespace, "link", "set", "eth0", "up"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// The arguments that run `arguments` inside host `index`'s namespace.
    func inside(_ index: Int, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        (NetworkNamespaces.ip!, ["netns", "exec", hosts[index].namespace] + arguments)
    }

    /// Runs a program to its end inside host `index`.
    func run(in index: Int, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let command = inside(index, arguments)
        return try runProcess(command.executable, command.arguments)
    }

    func tearDown() {
        for host in hosts { _ = try? runProcess(NetworkNamespaces.ip!, ["netns", "del", host.namespace]) }
        _ = try? runProcess(NetworkNamespaces.ip!, ["netns", "del", bridge])
        hosts = []
    }

    private func run(_ arguments: [String]) throws {
        let result = try runProcess(NetworkNamespaces.ip!, arguments)
        guard result.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")): \(result.output)") }
    }
}
