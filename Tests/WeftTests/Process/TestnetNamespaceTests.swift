import Foundation
import Glibc
import Weft
import XCTest

/// `weft testnet --tls` deployed as written onto network namespaces as hosts:
/// each validator started with `weft node start --config vp<i>/core.yaml`
/// only, a client in a namespace of its own committing transactions with the
/// client/ certificate (`weft load`, and one `weft tx submit --wait` read
/// back through the REST API), every validator's ledger holding them. Skipped, with
/// the reason, only where namespaces cannot be made (CI runs as root).
final class TestnetNamespaceTests: XCTestCase {
    func testATLSTestnetOnNamespacesCommitsTransactionsIntoEveryLedger() throws {
        let hostAddresses = (1...4).map { "10.214.0.\($0)" }
        let net = try NetworkNamespaces(addresses: hostAddresses + ["10.214.0.100"])
        defer { net.tearDown() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-testnet-ns-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let written = try runWeft(["testnet", "--validators", "4", "--hosts", hostAddresses.map { "\($0):7051" }.joined(separator: ","),
                                   "--out", dir, "--tls"])
        XCTAssertEqual(written.status, 0, written.output)

        // Nothing but the file: no flag, no variable (and not run from its folder).
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CORE_") && $0.key != "FABRIC_CFG_PATH" }
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        var validators: [CapturedProcess] = []
        defer { for validator in validators where validator.process.isRunning { kill(validator.process.processIdentifier, SIGKILL) } }
        for i in 0..<4 {
            let command = net.inside(i, [PeerProcess.binary, "node", "start", "--config", "\(dir)/vp\(i)/core.yaml"])
            validators.append(try CapturedProcess(command.executable, command.arguments, environment: environment,
                                                  label: "vp\(i)", captureStdout: false))
        }
        for validator in validators { try validator.waitForLog(containing: "peer started", timeout: 30) }
        try eventually(timeout: 30, "every validator has the other 3 established over TLS") {
            try (0..<4).allSatisfy { i in
                let status = try net.run(in: i, [PeerProcess.binary, "node", "status", "--ops", "127.0.0.1:9443"])
                return status.output.contains(": 3 established")
            }
        }

        // A client on a fifth host, with the testnet's client certificate.
        let acked = dir + "/acked"
        let client = dir + "/client"
        let load = try net.run(in: 4, [PeerProcess.binary, "load", "--mode", "tx", "--target", "10.214.0.1:7051", "--acked", acked,
                                       "-d", "2", "--warmup", "0", "-c", "2", "-w", "4", "--quiet",
                                       "--tls-cert", client + "/client.pem", "--tls-key", client + "/client.key",
                                       "--tls-root-cert", client + "/ca.pem", "--id-domain", "client.weft"])
        XCTAssertEqual(load.status, 0, load.output)
        var txids = Set(try String(contentsOfFile: acked, encoding: .utf8).split(separator: "\n").map(String.init))
        XCTAssertFalse(txids.isEmpty, "no transaction was acknowledged:\n\(load.output)")
        // One transaction by hand, as the deployment's README says, through another validator.
        let submit = try net.run(in: 4, [PeerProcess.binary, "tx", "submit", "--target", "10.214.0.3:7051", "--txid", "testnet-by-hand",
                                         "--payload", "hello testnet", "--wait", "--timeout", "20s",
                                         "--tls-cert", client + "/client.pem", "--tls-key", client + "/client.key",
                                         "--tls-root-cert", client + "/ca.pem", "--id-domain", "client.weft"])
        XCTAssertEqual(submit.status, 0, submit.output)
        XCTAssertTrue(submit.output.contains("testnet-by-hand"), submit.output)
        txids.insert("testnet-by-hand")
        // Read back on that validator's host through its REST API (rest.address from the testnet's core.yaml).
        try eventually(timeout: 20, "vp2's REST API finds the transaction") {
            let read = try net.run(in: 2, ["/usr/bin/curl", "-s", "http://127.0.0.1:7050/transactions/testnet-by-hand"])
            return read.output.contains("\"blockNumber\"")
        }

        // Every validator's ledger, in its data directory beside its core.yaml, holds every one.
        for i in 0..<4 {
            try eventually(timeout: 30, "vp\(i)'s ledger holds the \(txids.count) acknowledged transactions") {
                let blocks = try runWeft(["ledger", "blocks", "--txids", "--path", "\(dir)/vp\(i)/data"])
                let inLedger = Set(blocks.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
                return txids.isSubset(of: inLedger)
            }
        }
        for (i, validator) in validators.enumerated() {
            XCTAssertEqual(try validator.terminate(), 0, validator.log.suffix(3000).description)
            let verify = try runWeft(["ledger", "verify", "--path", "\(dir)/vp\(i)/data"])
            XCTAssertEqual(verify.status, 0, verify.output)
            XCTAssertTrue(verify.output.hasPrefix("OK "), verify.output)
        }
        let ledgers = try (0..<4).map { try runWeft(["ledger", "blocks", "--path", "\(dir)/vp\($0)/data"]).output }
        XCTAssertEqual(Set(ledgers).count, 1, "the four ledgers are identical:\n\(ledgers.joined(separator: "\n--\n"))")
    }
}
