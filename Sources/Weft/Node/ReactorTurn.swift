import CWeftLinux
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// The loop's turn, to the node: the reactor's call up once per sleep.
final class ReactorTurn: EventLoopHooks {
    private let node: Upward<Node>
    private let waker: EventWaker
    init(node: Node) { self.node = Upward(node); waker = node.reactorWaker }
    func beforeSleep() -> Bool { node { $0.beforeSleep() } }
    func afterSleep() { waker.cancelSleep() }
}
