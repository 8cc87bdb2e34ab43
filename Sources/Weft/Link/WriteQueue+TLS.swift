/// A TLS link's two queues: plaintext sealed into records, the records'
/// ciphertext queued for the gathered send. The peer's links (LinkIO+TLS)
/// and the load tool's connections seal and flush the same way.
extension WriteQueue {
    /// Seals everything queued here into `tls`'s records (the queue is
    /// emptied); false if a record could not be sealed.
    package mutating func seal(into tls: TLSSession) -> Bool {
        var sealedAll = true
        drain { sealedAll = tls.write($0) && sealedAll }
        return sealedAll
    }

    /// Queues all the ciphertext `tls` has produced.
    package mutating func appendCiphertext(of tls: TLSSession) {
        while case let pending = tls.pendingOutput, pending > 0 {
            append(upTo: pending) { tls.takeOutput(into: $0, count: pending) }
        }
    }
}
