import COpenSSL

/// An EC P-256 key pair made by libcrypto (the curve gen-certs.sh used).
public final class PrivateKey {
    let key: OpaquePointer   // EVP_PKEY

    public init() throws(CertificateError) {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CertificateError("no EC key generator") }
        defer { EVP_PKEY_CTX_free(context) }
        var made: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &made) == 1, let made else { throw CertificateError("EC P-256 key generation failed") }
        key = made
    }

    deinit { EVP_PKEY_free(key) }

    /// Unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`): keep the file mode 0600.
    public func pem() throws(CertificateError) -> String {
        try PEMText.write("private key") { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }
}
