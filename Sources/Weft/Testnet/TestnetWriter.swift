import Foundation
import Glibc

/// Writes a testnet folder: for each validator vp<i>/ with core.yaml, its
/// systemd unit and (TLS) tls/ with its key, certificate and the CA; with
/// TLS, ca/ (the CA's certificate and key, kept off the hosts) and client/
/// (a client certificate for `weft tx submit` and `weft load`); README.md.
/// Keys are written mode 0600, the rest 0644.
public enum TestnetWriter {
    /// CA and certificate lifetimes, in days (gen-certs.sh's 825 for the leaves).
    public static let caDays = 3650
    public static let certificateDays = 825

    /// - Throws: `TestnetError` when `folder` exists and is not an empty folder
    ///   (a usage error); any other error when a file cannot be made.
    public static func write(_ plan: TestnetPlan, to folder: String) throws {
        try requireEmptyOrAbsent(folder)
        let root = URL(fileURLWithPath: folder)
        let authority = plan.spec.tls ? try CertificateAuthority(commonName: "Weft testnet CA", days: caDays) : nil
        if let authority {
            try put(root, "\(TestnetLayout.caFolder)/ca.pem", try authority.certificate.pem())
            try put(root, "\(TestnetLayout.caFolder)/ca.key", try authority.key.pem(), secret: true)
            let client = try authority.issue(commonName: "client", alternativeNames: [.dns("client"), .dns("*.\(TestnetLayout.clientDomain)")],
                                             days: certificateDays)
            try put(root, "\(TestnetLayout.clientFolder)/client.pem", try client.certificate.pem())
            try put(root, "\(TestnetLayout.clientFolder)/client.key", try client.key.pem(), secret: true)
            try put(root, "\(TestnetLayout.clientFolder)/ca.pem", try authority.certificate.pem())
        }
        for validator in plan.validators {
            let own = validator.name
            try put(root, "\(own)/core.yaml", ValidatorCoreYAML.text(for: validator, in: plan))
            try put(root, "\(own)/\(TestnetLayout.unitName(validator))", ValidatorUnit.text(for: validator, in: plan))
            if let authority {
                let names: [SubjectAltName] = [.dns(validator.name), SubjectAltName(host: validator.host)]
                let issued = try authority.issue(commonName: validator.name, alternativeNames: names, days: certificateDays)
                try put(root, "\(own)/\(TestnetLayout.certificateFile)", try issued.certificate.pem())
                try put(root, "\(own)/\(TestnetLayout.keyFile)", try issued.key.pem(), secret: true)
                try put(root, "\(own)/\(TestnetLayout.rootCertificateFile)", try authority.certificate.pem())
            }
        }
        try put(root, "README.md", TestnetReadme.text(for: plan))
    }

    private static func requireEmptyOrAbsent(_ folder: String) throws(TestnetError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else { throw TestnetError("--out: '\(folder)' exists and is not a folder") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard entries.isEmpty else {
            throw TestnetError("--out: '\(folder)' is not empty (\(entries.count) entries); name a new or empty folder, so no key or ledger is overwritten")
        }
    }

    /// Writes `text` to `root/relative` (folders made as needed), 0600 if `secret`, else 0644.
    private static func put(_ root: URL, _ relative: String, _ text: String, secret: Bool = false) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let mode: mode_t = secret ? 0o600 : 0o644
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)   // never over an existing file
        guard fd >= 0 else { throw TestnetWriteError(path: url.path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw TestnetWriteError(path: url.path, errno: errno) }
            written += n
        }
        guard fchmod(fd, mode) == 0 else { throw TestnetWriteError(path: url.path, errno: errno) }   // the umask cannot widen or narrow it
    }
}
