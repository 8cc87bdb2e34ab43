import Dispatch
import Glibc
import Synchronization

/// Graceful shutdown (PROTOCOL.md section 7), on the reactor thread after the
/// loop stopped: stop accepting and reading, let the fan deliver everything
/// already in the ring and the consenter finish, write out its answers, say
/// DISC_DISCONNECT `shutting down` to every peer, close. Bounded to ~9 s.
extension Node {
    func shutdown() {
        links.shuttingDown = true
        let started = MonotonicClock.now()
        logger.info("shutting down: \(links.table.openCount) connections, \(inbound.count) messages in the ring")
        listener.close()
        rest?.stop()
        // Operations stay up while the peer drains: /healthz answers 503 (consenter stopped) meanwhile.

        // Nothing new is read: what is in the ring now is what gets delivered.
        links.pauseAllForShutdown()
        consensusHandler.notifyFanIfPushed()
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
        router.drain()

        for c in links.table.all where c.carriesFrames {
            links.disconnect(c, .shutdown, reason: "shutting down")
        }
        links.flushDirty()
        let goodbyeDeadline = min(MonotonicClock.now() + 1_000_000_000, started + 9_500_000_000)
        while links.table.openCount > 0, MonotonicClock.now() < goodbyeDeadline {
            loop.turn(maxWaitMillis: 10)
        }
        for c in links.table.all { links.close(c, .shutdown, detail: "shutting down") }
        operations?.close()
        logger.info("stopped", metadata: [
            "delivered": "\(fan.delivered.load(ordering: .relaxed))", "framesIn": "\(metrics.framesIn)",
            "framesOut": "\(metrics.framesOut)", "millis": "\((MonotonicClock.now() - started) / 1_000_000)",
        ])
    }
}
