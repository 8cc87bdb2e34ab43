import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running peer's established peers (GET /peers).",
        discussion: """
        Exit 0 with the table; 1 when the peer cannot be reached or refuses (the reason \
        is printed); 64 for bad flags. For an operations listener with \
        operations.tls.enabled give --tls-root-cert (the CA of its certificate), and \
        --tls-cert and --tls-key when it requires a client certificate.
        """)

    @Option(help: "The peer's operations endpoint.")
    var ops = "127.0.0.1:9443"
    @Flag(help: "Print the JSON as the peer sent it.")
    var json = false
    @Option(name: .customLong("tls-root-cert"), help: "TLS 1.3: PEM CA the operations listener's certificate must chain to.")
    var tlsRootCert: String?
    @Option(name: .customLong("tls-cert"), help: "TLS: PEM client certificate (operations.tls.clientAuthRequired); needs --tls-key.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        guard HostPort(ops) != nil else { throw ValidationError("--ops: '\(ops)' is not host:port") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard tlsCert == nil || tlsRootCert != nil else { throw ValidationError("--tls-cert needs --tls-root-cert (TLS to the listener)") }
    }

    func run() throws {
        let target = HostPort(ops)!
        var tls: TLSContext?
        if let tlsRootCert {
            do { tls = try TLSContext(certFile: tlsCert, keyFile: tlsKey, trustedFiles: [tlsRootCert], keys: StatusCommand.tlsFlags) } catch {
                throw ValidationError("\(error.key): \(error.reason)")
            }
        }
        let body: String
        do { body = try HTTPGet.fetch(target, path: "/peers", tls: tls) } catch {
            // Not a usage error: the flags were fine, the peer is down, elsewhere, or refused.
            let what = "\(error)".hasPrefix("HTTP ") ? "the operations endpoint at \(ops) refused" : "cannot reach the operations endpoint at \(ops)"
            FileHandle.standardError.write(Data("weft node status: \(what): \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json { print(body, terminator: ""); return }
        print(try PeerStatusTable.render(json: body))
    }

    /// The flags that TLS errors name.
    static let tlsFlags = TLSContext.Keys(enabled: "--tls-root-cert", cert: "--tls-cert", key: "--tls-key", trusted: "--tls-root-cert")
}
