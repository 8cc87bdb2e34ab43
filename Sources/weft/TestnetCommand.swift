import ArgumentParser
import Foundation
import Weft

struct TestnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testnet",
        abstract: "Write the configuration, certificates and systemd units of a validator network on real hosts.",
        discussion: """
        For each validator vp<i>, writes --out/vp<i>/ with its core.yaml (peer id, addresses, every other \
        validator as root node, PBFT N, f and validators, data directory data/ beside the file, operations \
        and REST addresses), its systemd unit and, with --tls, tls/ holding its key and certificate (CN and \
        DNS vp<i>, and its host as IP or DNS) and the CA; with --tls also ca/ (the CA; its key stays off the \
        hosts) and client/ (client.pem, client.key, ca.pem for `weft tx submit` and `weft load`, with \
        --id-domain client.weft). Keys are EC P-256, made by this binary through libcrypto. --out/README.md \
        says what to copy where and how to start and check it. --hosts gives one host:port per validator, or \
        one for all; validators sharing a host get consecutive peer, operations and REST ports. This replaces \
        scripts/cluster/gen-certs.sh for deployments. Exit 2 on a bad argument or an --out folder that is not empty.
        """)

    @Option(help: "Number of validators (PBFT: at least 4).") var validators: Int?
    @Option(help: "host:port of each validator's peer port, comma-separated; one host:port for all of them.") var hosts: String?
    @Option(help: "Folder to write (new or empty).") var out: String?
    @Flag(help: "Mutual TLS 1.3 on peer links: make a CA, a certificate per validator and a client certificate.") var tls = false
    @Option(name: .customLong("ops-port"), help: "Operations port of the first validator on a host (the next one on it: +1).") var opsPort: UInt16 = 9443
    @Option(name: .customLong("rest-port"), help: "REST port of the first validator on a host (the next one on it: +1).") var restPort: UInt16 = 7050
    @Option(help: "Consenter: pbft or noops.") var consensus = "pbft"

    func run() throws {
        let plan: TestnetPlan
        let folder: String
        do {
            guard let validators else { throw TestnetError("--validators N is required") }
            guard let hosts else { throw TestnetError("--hosts H1:P1,H2:P2,... is required") }
            guard let out, !out.isEmpty else { throw TestnetError("--out DIR is required") }
            plan = try TestnetPlan(TestnetSpec(validators: validators, hosts: try TestnetSpec.parseHosts(hosts), consensus: consensus,
                                               tls: tls, operationsPort: opsPort, restPort: restPort))
            folder = out
            try TestnetWriter.write(plan, to: folder)
        } catch let error as TestnetError {
            FileHandle.standardError.write(Data("weft testnet: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("weft testnet: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("wrote a \(plan.spec.validators)-validator \(plan.spec.consensus) testnet\(tls ? " with TLS" : "") in \(folder); see \(folder)/README.md")
        for v in plan.validators {
            print("  \(v.name)  \(v.address)  ops \(v.operationsAddress)  rest \(v.restAddress)")
        }
    }
}
