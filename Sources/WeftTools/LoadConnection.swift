import CWeftLinux
import Foundation
import Glibc
import Histogram
import SwiftProtobuf
import Synchronization
import Weft

/// One load connection's state (owned by its worker thread).
final class LoadConnection: EventHandler {
    let id: Int
    let fd: Int32
    /// The worker owns its connections and outlives them (the library's idiom for a call up).
    let worker: Upward<LoadWorker>
    var established = false
    var dead = false
    var reader = FrameReader()
    /// Frames to send (the library's gathered write queue); with TLS they are
    /// sealed into `sealed` at each flush.
    var out = WriteQueue()
    var tls: TLSSession?
    var sealed = WriteQueue()
    var inFlight = 0
    var nextSeq: UInt64 = 0
    var expectSeq: UInt64 = 0
    var nextDue: UInt64 = 0
    var txSentAt: [UInt64: UInt64] = [:]
    var writeArmed = false

    /// The first sequence number of this connection (--reconnect goes on from the last one's).
    let firstSeq: UInt64

    init(id: Int, fd: Int32, worker: LoadWorker, firstSeq: UInt64) {
        self.id = id; self.fd = fd; self.worker = Upward(worker); self.firstSeq = firstSeq; nextSeq = firstSeq; expectSeq = firstSeq
    }

    var hasUnsent: Bool { !out.isEmpty || !sealed.isEmpty }

    func handleEvents(_ events: UInt32) { worker { $0.ready(self, events: events) } }
}
