import Dispatch
import Glibc
import Synchronization

/// Graceful shutdown (PROTOCOL.md section 7), on the reactor thread after the
/// loop stopped: stop accepting and reading, let the fan deliver everything
/// already in the ring and the consenter finish, write out its answers, say
/// DISC_DISCONNECT `shutting down` to every peer, close. Bounded to ~9 s.
extension Node {
    func shutdown() {
        shuttingDown = true
        let started = MonotonicClock.now()
        logger.info("shutting down: \(openCount) connections, \(inbound.count) messages in the ring")
        loop.unregister(listenerFD)
        Syscall.close(listenerFD)
        listenerFD = -1
        // Operations stay up while the peer drains: /healthz answers 503 (consenter stopped) meanwhile.

        // Nothing new is read: what is in the ring now is what gets delivered.
        for c in links.all where c.state != .closing {
            if c.state == .connecting { close(c, .shutdown, detail: "shutting down"); continue }
            c.paused = true
            updateEvents(c)
        }
        pausedConnections.removeAll()
        notifyFanIfPushed()
        fan.notify()

        // The consenter finishes on its own queue after the last message;
        // meanwhile the reactor keeps writing what it sends.
        let consenterDone = Atomic<Bool>(false)
        let consenter = self.consenter
        let waker = reactorWaker
        fan.queue.async {
            consenter.stop()
            consenterDone.store(true, ordering: .releasing)
            waker.forceWake()
        }
        let deadline = started + 8_000_000_000
        while !(consenterDone.load(ordering: .acquiring) && outbound.isEmpty), MonotonicClock.now() < deadline {
            loop.turn(maxWaitMillis: 10)
        }
        if !consenterDone.load(ordering: .acquiring) {
            logger.error("the consenter did not finish within 8 s; \(inbound.count) messages undelivered")
        }
        communicator.closed.store(true, ordering: .releasing)
        drainOutbound()

        for c in links.all where c.state == .established || c.state == .awaitingHello {
            c.paused = false
            disconnect(c, .shutdown, reason: "shutting down")
        }
        flushDirty()
        let goodbyeDeadline = min(MonotonicClock.now() + 1_000_000_000, started + 9_500_000_000)
        while openCount > 0, MonotonicClock.now() < goodbyeDeadline {
            loop.turn(maxWaitMillis: 10)
        }
        for c in links.all { close(c, .shutdown, detail: "shutting down") }
        operations?.close()
        logger.info("stopped", metadata: [
            "delivered": "\(fan.delivered.load(ordering: .relaxed))", "framesIn": "\(metrics.framesIn)",
            "framesOut": "\(metrics.framesOut)", "millis": "\((MonotonicClock.now() - started) / 1_000_000)",
        ])
    }
}
