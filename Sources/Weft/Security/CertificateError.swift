/// A key or certificate libcrypto could not make or write; the reason holds OpenSSL's own words.
public struct CertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "\(what): \(TLSContext.takeErrors())" }
}
