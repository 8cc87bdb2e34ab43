import Foundation
import Glibc
import SwiftProtobuf
@testable import Weft
import WeftTools
import XCTest

/// A consenter that counts exactly and stalls. While stalled it waits before
/// taking the next message, so the inbound ring fills behind it. It starts
/// stalled. A message from `probe` is answered with its own payload followed
/// by the number of messages taken before it (8 bytes, big-endian); then it
/// stalls again at the first message that finds the ring below half (less
/// one). By then the fan has told a paused reactor there is room (it does
/// after each message once the ring is below half), so the ring fills up
/// behind the stall; stalled in the upper half, with the readers paused until
/// the ring is below half, nothing would fill it. Waits are bounded: a stall
/// never outlasts 30 s, so a failing test cannot hang the node's shutdown.
final class StallingCounter: Consenter, @unchecked Sendable {
    private let condition = NSCondition()
    private let probeName: String
    private let half: Int
    // Guarded by `condition`.
    private var stallWanted = true
    private var stalled = false
    private var released = false
    private var taken = 0
    private var depth: (@Sendable () -> Int)?
    // Set in start(), used on the fan queue only.
    private var communicator: Communicator?

    init(probe: String, ringCapacity: Int) {
        probeName = probe
        half = ringCapacity / 2
    }

    /// How to read the inbound ring's depth (any thread). Until set, a wanted
    /// stall happens at once.
    func watch(depth: @escaping @Sendable () -> Int) {
        condition.lock()
        self.depth = depth
        condition.unlock()
    }

    func start(_ context: FanContext) throws { communicator = context.communicator }

    func recvMsg(_ message: consuming Weft.Message, from sender: PeerID) {
        condition.lock()
        if stallWanted && !released && (depth?() ?? 0) < half - 1 {
            stallWanted = false
            stalled = true
            condition.broadcast()
        }
        let deadline = Date().addingTimeInterval(30)
        while stalled && !released {
            if !condition.wait(until: deadline) { released = true }
        }
        stalled = false
        let before = taken
        taken += 1
        let isProbe = sender.name == probeName
        if isProbe { stallWanted = true }
        condition.unlock()
        if isProbe {
            let answer = message.payload + withUnsafeBytes(of: UInt64(before).bigEndian, Array.init)
            try? communicator?.unicast(Weft.Message(type: .consensus, payload: answer), to: sender)
        }
    }

    /// Waits (at most 10 s) until the fan is stalled with a message in hand.
    func waitUntilStalled(what: String) throws {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(10)
        while !stalled {
            if !condition.wait(until: deadline) && !stalled { throw TestFailure("timed out after 10 s waiting for: \(what)") }
        }
    }

    /// Ends the stall; the number of messages taken until then.
    func resume() -> Int {
        condition.lock()
        defer { condition.unlock() }
        stalled = false
        condition.broadcast()
        return taken
    }

    /// No more stalls (teardown).
    func releaseForGood() {
        condition.lock()
        released = true
        condition.broadcast()
        condition.unlock()
    }
}
