import Foundation
import Weft

/// A CA and certificates made by scripts/cluster/gen-certs.sh in a fresh folder.
struct TestCertificates {
    let dir: String
    var caFile: String { dir + "/ca.pem" }

    init(names: [String], caName: String = "Weft test CA") throws {
        dir = TestScratch.path("weft-certs")
        let script = RepoRoot.url.appendingPathComponent("scripts/cluster/gen-certs.sh").path
        let result = try runProcess("/bin/bash", [script, "--out", dir, "--days", "2", "--ca-name", caName] + names)
        guard result.status == 0 else { throw TestFailure("gen-certs.sh failed: \(result.output)") }
    }

    func tls(for name: String) -> PeerConfig.TLS {
        PeerConfig.TLS(certFile: "\(dir)/\(name).pem", keyFile: "\(dir)/\(name).key", rootCertFile: caFile)
    }

    func settings(for name: String, rootNode: HostPort? = nil) -> [String: String] {
        var settings = ["peer.tls.enabled": "true", "peer.tls.cert.file": "\(dir)/\(name).pem",
                        "peer.tls.key.file": "\(dir)/\(name).key", "peer.tls.rootcert.file": caFile]
        if let rootNode { settings["peer.discovery.rootnode"] = rootNode.description }
        return settings
    }

    /// The load certificate (`*.load.weft`) as a client context.
    func clientContext() throws -> TLSContext { try TLSContext(tls(for: "load"), expectedName: nil) }

    var loadFlags: [String] { ["--tls-cert", dir + "/load.pem", "--tls-key", dir + "/load.key", "--tls-root-cert", caFile] }
}
