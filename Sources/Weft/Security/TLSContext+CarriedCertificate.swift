import COpenSSL

/// A certificate that arrives inside a message rather than in a handshake (a PBFT
/// VIEW-CHANGE relayed by another replica carries its signer's), judged as the TLS
/// handshake and the hello check judge a peer's: it must chain to this context's
/// trust root (`peer.tls.rootcert.file`, the same store and the same verification
/// as this peer's own certificate at start) and carry the name its holder claims,
/// as CN or DNS SAN (`HelloDecision`'s check). Only then does its key check anything.
extension TLSContext {
    /// The key of `der` for checking signatures made by `name`, or why the certificate is refused.
    func verifier(forCarried der: [UInt8], naming name: String) -> Result<SignatureVerifier, TLSFailure> {
        guard let certificate = SignatureVerifier.parse(der) else { return .failure(TLSFailure("does not parse as a DER X.509 certificate")) }
        defer { X509_free(certificate) }
        let chained = cweft_tls_verify_certificate(context, certificate, nil)
        guard chained == X509_V_OK else {
            return .failure(TLSFailure("does not chain to peer.tls.rootcert.file: \(String(cString: X509_verify_cert_error_string(Int(chained))))"))
        }
        guard TLSContext.certificate(certificate, names: name) else {
            return .failure(TLSFailure("does not name \(name) (neither its CN nor a DNS SAN)"))
        }
        guard let key = SignatureVerifier(certificate: certificate) else { return .failure(TLSFailure("holds no usable public key")) }
        return .success(key)
    }

    /// This peer's own certificate (`peer.tls.cert.file`), DER.
    var ownCertificateDER: [UInt8]? { SSL_CTX_get0_certificate(context).flatMap { MessageSigning.der($0) } }
}
