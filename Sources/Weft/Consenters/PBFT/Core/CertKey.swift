/// The certificates of the normal case, one per (view, sequence number): the
/// pre-prepare, and the first PREPARE and COMMIT of each replica. Only entries
/// inside the watermark window are kept (`collect(atOrBelow:)`).
struct CertKey: Hashable, Comparable, Sendable {
    let view: UInt64
    let sequence: UInt64
    static func < (a: CertKey, b: CertKey) -> Bool { (a.sequence, a.view) < (b.sequence, b.view) }
}
