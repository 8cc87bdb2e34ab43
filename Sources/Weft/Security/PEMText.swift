import COpenSSL

/// What an OpenSSL `PEM_write_bio_*` call writes, as text (through a memory BIO).
enum PEMText {
    static func write(_ what: String, _ writer: (OpaquePointer) -> Int32) throws(CertificateError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CertificateError("cannot make a memory BIO for the \(what)") }
        defer { BIO_free_all(bio) }
        guard writer(bio) == 1 else { throw CertificateError("cannot write the \(what) as PEM") }
        var bytes = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let read = BIO_read(bio, &bytes, Int32(bytes.count))
        return String(decoding: bytes.prefix(Int(max(0, read))), as: UTF8.self)
    }
}
