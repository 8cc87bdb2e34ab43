import Foundation
import Glibc
import Logging
import Synchronization

/// Fabric v0.6's REST API (`rest.address`, PROTOCOL.md section 11), served
/// off the reactor: one thread accepts, each connection gets a thread of its
/// own (at most `rest.maxConnections`; past that a connection is answered 503
/// and closed), one request per connection, every read and write bounded by
/// a deadline. Ledger reads go to `LedgerReadQueue`'s thread.
public final class RESTServer: @unchecked Sendable {   // the listener is fixed; the counters are atomic
    public let boundAddress: HostPort
    private let fd: Int32
    private let router: RESTRouter
    private let reads: LedgerReadQueue
    private let logger: Logger
    private let maxConnections: Int
    private let maxBodyBytes: Int
    private let active = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let acceptorDone = DispatchSemaphore(value: 0)
    /// A connection has this long to send its request (its answer's wait is apart).
    static let requestTimeoutNanos: UInt64 = 10_000_000_000

    /// Binds `settings.address` (a busy port throws, naming the key).
    init(settings: PeerConfig.REST, dataDirectory: String, maxBodyBytes: Int, logger: Logger,
         peers: @escaping @Sendable () -> [[String: Any]]?, clientPort: Result<HostPort, RESTUnavailable>, clientNamePrefix: String) throws {
        guard let target = HostPort(settings.address, allowPortZero: true) else {
            throw ConfigError(key: "rest.address", reason: "'\(settings.address)' is not host:port")
        }
        var options = SocketOptions()
        options.backlog = 128
        do { fd = try Sockets.listen(on: target, options: options) { _ in } } catch {
            throw ConfigError(key: "rest.address", reason: "\(error)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        boundAddress = SocketAddress.local(of: fd)?.hostPort ?? target
        reads = LedgerReadQueue(dataDirectory: dataDirectory, capacity: settings.readQueue, delayNanos: settings.testReadDelayNanos)
        router = RESTRouter(reads: reads, peers: peers, clientPort: clientPort, clientNamePrefix: clientNamePrefix)
        self.logger = logger
        maxConnections = settings.maxConnections
        self.maxBodyBytes = maxBodyBytes
    }

    func start() {
        reads.start()
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "weft-rest-accept"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops accepting (connections being served finish on their own, bounded by their deadlines).
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))      // wakes the blocked accept
        acceptorDone.wait()
        Syscall.close(fd)
        reads.stop()
    }

    private func acceptLoop() {
        defer { acceptorDone.signal() }
        while !stopping.load(ordering: .acquiring) {
            let client: Int32
            switch Syscall.accept(fd, nonBlocking: false) {
            case .accepted(let accepted): client = accepted
            case .none: continue
            case .outOfDescriptors(let err), .failed(let err):
                if stopping.load(ordering: .acquiring) { return }
                // Out of descriptors or the like: wait a little rather than spin.
                logger.warning("REST accept: \(String(cString: strerror(err)))")
                usleep(100_000)
                continue
            }
            let deadline = MonotonicClock.now() + RESTServer.requestTimeoutNanos
            guard active.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maxConnections else {
                active.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                let refused = RESTConnection(fd: client, deadline: MonotonicClock.now(), maxBodyBytes: 0)
                refused.write(.error(503, "too many REST connections (rest.maxConnections \(maxConnections))"), patiently: false)
                refused.close(lingerNanos: 0)      // no waiting here: the acceptor must not block
                continue
            }
            let thread = Thread { [self] in
                let connection = RESTConnection(fd: client, deadline: deadline, maxBodyBytes: maxBodyBytes)
                serve(connection)
                // The place is free before the client sees the end: its next connection finds it free.
                active.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                connection.close(lingerNanos: 1_000_000_000)
            }
            thread.name = "weft-rest"
            thread.stackSize = 512 << 10
            thread.start()
        }
    }

    private func serve(_ connection: RESTConnection) {
        switch connection.readRequest() {
        case .gone: return
        case .refuse(let response): connection.write(response)
        case .request(let request):
            let response = router.route(request)
            logger.debug("REST \(request.method) \(request.path) \(response.status)")
            // The answer may have taken long (a POST waiting for its block): it gets its own time to go out.
            connection.extended(by: 5_000_000_000).write(response)
        }
    }
}
