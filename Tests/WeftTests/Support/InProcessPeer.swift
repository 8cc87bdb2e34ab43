import Foundation
import Logging
import Synchronization
import Weft

/// A node of the library running in this process.
final class InProcessPeer {
    let node: Node

    init(name: String, consenter: Consenter, rootNode: String? = nil, settings: [String: String] = [:]) throws {
        var config = PeerConfig()
        config.peerID = name
        config.listenAddress = "127.0.0.1:0"
        config.operationsListenAddress = ""
        config.rest.address = "127.0.0.1:0"
        config.fileSystemPath = TestScratch.path("weft-inproc-\(name)")
        config.discovery.periodNanos = 1_000_000_000
        if let rootNode { config.discovery.rootNodes = [rootNode] }
        for (key, value) in settings { try ConfigLoader.set(&config, key, value) }
        node = try Node(config: config, consenter: consenter, logger: Logger(label: name) { _ in SwiftLogNoOpLogHandler() })
        try node.start()
    }

    deinit {
        node.stop()
        node.waitUntilStopped()
    }
}

/// Records the sequence numbers (payload, 4 bytes big-endian) it receives.
final class RecordingConsenter: Consenter, @unchecked Sendable {
    private let state = Mutex<(received: [Int], senders: [String])>(([], []))
    var received: [Int] { state.withLock { $0.received } }
    var senders: [String] { state.withLock { $0.senders } }

    func recvMsg(_ message: Weft.Message, from sender: PeerID) {
        let value = message.payload.reduce(0) { $0 << 8 | Int($1) }
        state.withLock { $0.received.append(value); $0.senders.append(sender.name) }
    }
}

/// Broadcasts on request, from the fan's queue as a consenter must.
final class BroadcastingConsenter: Consenter, @unchecked Sendable {
    private var context: FanContext?

    func start(_ context: FanContext) throws { self.context = context }
    func recvMsg(_ message: Weft.Message, from sender: PeerID) {}

    func peerCount() -> Int { context?.queue.sync { context?.communicator.peers().count } ?? 0 }

    func broadcast(count: Int) {
        guard let context else { return }
        context.queue.async {
            for i in 0..<count {
                let payload = withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
                context.communicator.broadcast(Weft.Message(type: .consensus, payload: payload), to: .validators)
            }
        }
    }

    func unicastError(to name: String) -> CommunicatorError? {
        guard let context else { return nil }
        return context.queue.sync { () -> CommunicatorError? in
            do throws(CommunicatorError) { try context.communicator.unicast(Weft.Message(type: .consensus, payload: [1]), to: PeerID(name: name)); return nil } catch {
                return error
            }
        }
    }
}
