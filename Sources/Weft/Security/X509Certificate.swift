import COpenSSL
import Glibc

/// An X.509 v3 certificate made and signed by libcrypto (SHA-256), valid from
/// an hour ago (clock skew between hosts) for `days`.
public final class X509Certificate {
    let certificate: OpaquePointer   // X509

    /// - Parameters:
    ///   - extensions: (NID, OpenSSL configuration value), e.g. (NID_key_usage, "critical,digitalSignature").
    ///   - issuer: the signing CA; nil = self-signed with `key`.
    init(commonName: String, key: PrivateKey, extensions: [(Int32, String)], days: Int,
         issuer: (certificate: X509Certificate, key: PrivateKey)?) throws(CertificateError) {
        guard let made = X509_new() else { throw CertificateError("cannot allocate a certificate") }
        certificate = made
        guard X509_set_version(made, 2) == 1 else { throw CertificateError("cannot make a v3 certificate") }   // 2 = X.509 v3
        try X509Certificate.setRandomSerial(made)
        guard X509_gmtime_adj(X509_getm_notBefore(made), -3600) != nil,
              X509_time_adj_ex(X509_getm_notAfter(made), Int32(days), 0, nil) != nil else { throw CertificateError("cannot set the validity") }
        guard X509_set_pubkey(made, key.key) == 1 else { throw CertificateError("cannot set the public key") }
        let name = X509_get_subject_name(made)
        let cn = Array(commonName.utf8)
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, Int32(cn.count), -1, 0) == 1 else {
            throw CertificateError("cannot set the subject CN '\(commonName)'")
        }
        let issuerCertificate = issuer?.certificate.certificate ?? made
        guard X509_set_issuer_name(made, X509_get_subject_name(issuerCertificate)) == 1 else { throw CertificateError("cannot set the issuer") }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuerCertificate, made, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw CertificateError("bad extension '\(value)'") }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(made, ext, -1) == 1 else { throw CertificateError("cannot add the extension '\(value)'") }
        }
        guard X509_sign(made, (issuer?.key ?? key).key, EVP_sha256()) > 0 else { throw CertificateError("cannot sign the certificate") }
    }

    deinit { X509_free(certificate) }

    public func pem() throws(CertificateError) -> String {
        try PEMText.write("certificate") { PEM_write_bio_X509($0, certificate) }
    }

    /// 127 random bits (positive, as RFC 5280 wants), so two runs never reuse a serial.
    private static func setRandomSerial(_ certificate: OpaquePointer) throws(CertificateError) {
        guard let number = BN_new() else { throw CertificateError("cannot make the serial") }
        defer { BN_free(number) }
        guard BN_rand(number, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 else { throw CertificateError("no random bits for the serial") }
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else { throw CertificateError("cannot set the serial") }
    }
}
