import COpenSSL

/// A self-signed CA made in-process through libcrypto (no `openssl` command),
/// and the certificates it issues: what scripts/cluster/gen-certs.sh made, for
/// `weft testnet`. Keys are EC P-256; every leaf is good for TLS server and
/// client use (peers dial and accept), names its holder in CN and in the
/// subject-alternative names given.
public final class CertificateAuthority {
    public let certificate: X509Certificate
    public let key: PrivateKey

    public init(commonName: String, days: Int) throws(CertificateError) {
        key = try PrivateKey()
        certificate = try X509Certificate(commonName: commonName, key: key, extensions: [
            (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
            (NID_key_usage, "critical,keyCertSign,cRLSign"),
            (NID_subject_key_identifier, "hash"),
        ], days: days, issuer: nil)
    }

    /// A new key and its certificate, signed by this CA.
    public func issue(commonName: String, alternativeNames: [SubjectAltName], days: Int) throws(CertificateError)
        -> (certificate: X509Certificate, key: PrivateKey) {
        let leafKey = try PrivateKey()
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        if !alternativeNames.isEmpty {
            extensions.append((NID_subject_alt_name, alternativeNames.map(\.configText).joined(separator: ",")))
        }
        let leaf = try X509Certificate(commonName: commonName, key: leafKey, extensions: extensions, days: days,
                                       issuer: (certificate, key))
        return (leaf, leafKey)
    }
}
