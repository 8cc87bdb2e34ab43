import Foundation
import Synchronization

/// Ledger reads for the REST API, on one reader thread of their own (never
/// the reactor, never a connection's thread): a bounded queue of jobs, each
/// run against the thread's `LedgerReader`. A full queue is refused at once
/// (the caller answers 503), so a flood of reads cannot pile up memory.
final class LedgerReadQueue: @unchecked Sendable {   // the jobs under a mutex, the reader owned by its thread
    /// One read: runs on the reader thread, its answer handed back.
    private final class Job: @unchecked Sendable {   // `answer` is written by the reader before `done` is signalled
        let work: (LedgerReader) throws -> RESTResponse
        var answer: RESTResponse?
        let done = DispatchSemaphore(value: 0)
        init(_ work: @escaping (LedgerReader) throws -> RESTResponse) { self.work = work }
    }

    private let jobs = Mutex<[Job]>([])
    private let ready = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let dataDirectory: String
    private let delayNanos: UInt64
    private let stopping = Atomic<Bool>(false)
    private var reader: LedgerReader?      // reader thread only

    init(dataDirectory: String, capacity: Int, delayNanos: UInt64) {
        self.dataDirectory = dataDirectory
        self.capacity = capacity
        self.delayNanos = delayNanos
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "weft-rest-reader"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        ready.signal()
    }

    enum Outcome { case answered(RESTResponse), full, timedOut }

    /// Queues `work` and waits for its answer (up to `timeoutNanos`).
    func read(timeoutNanos: UInt64, _ work: @escaping (LedgerReader) throws -> RESTResponse) -> Outcome {
        let job = Job(work)
        let queued = jobs.withLock { jobs -> Bool in
            guard jobs.count < capacity else { return false }
            jobs.append(job)
            return true
        }
        guard queued else { return .full }
        ready.signal()
        guard job.done.wait(timeout: .now() + .nanoseconds(Int(timeoutNanos))) == .success, let answer = job.answer else { return .timedOut }
        return .answered(answer)
    }

    private func run() {
        while true {
            ready.wait()
            if stopping.load(ordering: .acquiring) { break }
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            if delayNanos > 0 { usleep(UInt32(min(delayNanos / 1000, 10_000_000))) }
            job.answer = answer(job)
            job.done.signal()
        }
        // Whoever still waits is told the server is going.
        for job in jobs.withLock({ jobs -> [Job] in defer { jobs.removeAll() }; return jobs }) {
            job.answer = .error(503, "the peer is shutting down")
            job.done.signal()
        }
    }

    private func answer(_ job: Job) -> RESTResponse {
        do {
            if reader == nil { reader = try LedgerReader(dataDirectory: dataDirectory) }
            return try job.work(reader!)
        } catch {
            reader = nil      // opened again for the next read
            return .error(500, "cannot read the ledger: \(error)")
        }
    }
}
