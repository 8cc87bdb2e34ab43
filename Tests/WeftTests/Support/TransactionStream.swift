import Foundation
import Glibc
import Weft
import WeftTools
import XCTest

/// A client that keeps sending transactions to one validator, a few at a
/// time, and records which were acknowledged, until stopped or its
/// validator goes away. Bounded: at most `limit` transactions.
final class TransactionStream: @unchecked Sendable {   // ackedList and running are guarded by lock
    let name: String
    private let target: HostPort
    private let lock = NSLock()
    private var ackedList: [String] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)
    private let limit: Int

    private let tls: TLSContext?

    init(_ target: HostPort, name: String, limit: Int = 20_000, tls: TLSContext? = nil) {
        self.target = target
        self.tls = tls
        self.name = name
        self.limit = limit
        Thread.detachNewThread { [self] in run(); done.signal() }
    }

    var acked: [String] { lock.lock(); defer { lock.unlock() }; return ackedList }
    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    private func run() {
        guard let client = try? PBFTClient(target, name: name, tls: tls) else { return }
        var sent = 0
        while isRunning && sent < limit {
            let txids = (sent..<(sent + 10)).map { "\(name)-\($0)" }
            sent += txids.count
            guard (try? client.send(txids)) != nil else { return }
            guard let outcome = try? client.collect(expected: txids.count, timeout: 0.3) else { return }
            lock.lock(); ackedList += outcome.succeeded; lock.unlock()
        }
        // The answers still on their way.
        if let outcome = try? client.collect(expected: 1_000_000, timeout: 1) {
            lock.lock(); ackedList += outcome.succeeded; lock.unlock()
        }
    }

    /// Stops sending, waits for the last answers, returns what was acknowledged.
    func stop() -> [String] {
        lock.lock(); running = false; lock.unlock()
        done.wait()
        return acked
    }
}
