import Foundation
import Glibc
import Synchronization
import Weft
import XCTest

/// The doorbell between a producer that publishes work and a consumer that
/// goes idle (the fan's scheduling, the reactor's eventfd). A lost wake-up
/// cannot be forced, so these tests run the mechanism alone for millions of
/// rounds, each round ending with both sides quiet: the producer waits for
/// the consumer to have taken everything. A missed ring leaves the item in
/// the ring with nobody scheduled, and the round's bounded wait fails.
/// The window is a few instructions wide, so in a debug build these rarely
/// open it; `scripts/bench/doorbell-stress.sh` runs the same harness built with -O,
/// where the doorbell without the producer's fence (the old `notify()`) loses
/// a wake-up within a few thousand rounds and the fenced one none in millions.
final class DoorbellTests: XCTestCase {
    static var rounds: Int { ProcessInfo.processInfo.environment["WEFT_DOORBELL_ROUNDS"].flatMap(Int.init) ?? 2_000_000 }

    /// The fan's pattern: the consumer runs only when scheduled (a count it
    /// spins on stands in for `DispatchQueue.async`), drains, announces it is
    /// idle, checks once more, and reclaims when it found work.
    func testFanStyleSchedulingLeavesNothingUnscheduled() throws {
        final class Shared: @unchecked Sendable {
            let ring = SPSCRing<Int>(capacity: 64)
            let idle = Doorbell(announced: true)
            let schedules = Atomic<Int>(0)
            let consumed = Atomic<Int>(0)
            let stop = Atomic<Bool>(false)
        }
        let s = Shared()
        let consumer = Thread {
            var taken = 0
            while true {
                while s.schedules.load(ordering: .acquiring) == taken {      // idle until scheduled
                    if s.stop.load(ordering: .relaxed) { return }
                    sched_yield()
                }
                taken += 1
                while true {                                                  // drain(), as ConsensusFan does
                    while s.ring.pop() != nil { s.consumed.add(1, ordering: .releasing) }
                    s.idle.announce()
                    if s.ring.isEmpty || !s.idle.reclaim() { break }
                }
            }
        }
        consumer.start()
        defer { s.stop.store(true, ordering: .relaxed) }

        var pushed = 0
        for round in 0..<Self.rounds {
            let burst = 1 + round % 3
            for _ in 0..<burst {
                XCTAssertTrue(s.ring.push(round))
                pushed += 1
            }
            if s.idle.ring() { s.schedules.add(1, ordering: .releasing) }   // notify()
            try waitQuiet(round: round) { s.consumed.load(ordering: .acquiring) == pushed }
        }
        XCTAssertEqual(s.consumed.load(ordering: .acquiring), pushed)
        XCTAssertTrue(s.ring.isEmpty)
        XCTAssertTrue(s.idle.isAnnounced, "quiet: the consumer is announced idle")
    }

    /// The reactor's pattern with the real `EventWaker`: the sleeper announces,
    /// checks the ring, blocks in poll(2) on the eventfd; the producer pushes
    /// and wakes. A lost wake-up leaves the sleeper in poll with work waiting.
    func testEventWakerNeverSleepsOnWork() throws {
        final class Shared: @unchecked Sendable {
            let ring = SPSCRing<Int>(capacity: 64)
            let waker: EventWaker
            let consumed = Atomic<Int>(0)
            let lostWakeUps = Atomic<Int>(0)
            let stop = Atomic<Bool>(false)
            init() throws { waker = try EventWaker() }
        }
        let s = try Shared()
        let sleeper = Thread {
            while !s.stop.load(ordering: .relaxed) {
                while s.ring.pop() != nil { s.consumed.add(1, ordering: .releasing) }
                s.waker.announceSleep()
                if !s.ring.isEmpty { s.waker.cancelSleep(); continue }
                var pfd = pollfd(fd: s.waker.fd, events: Int16(POLLIN), revents: 0)
                let n = poll(&pfd, 1, 2000)
                s.waker.cancelSleep()
                if n == 0, !s.ring.isEmpty { s.lostWakeUps.add(1, ordering: .relaxed) }   // slept 2 s on work
                if n > 0 { s.waker.drain() }
            }
        }
        sleeper.start()
        defer { s.stop.store(true, ordering: .relaxed); s.waker.forceWake() }

        var pushed = 0
        let rounds = max(1, Self.rounds / 10)                    // each round may cost two syscalls
        for round in 0..<rounds {
            XCTAssertTrue(s.ring.push(round))
            pushed += 1
            s.waker.wake()
            try waitQuiet(round: round) { s.consumed.load(ordering: .acquiring) == pushed }
        }
        XCTAssertEqual(s.lostWakeUps.load(ordering: .relaxed), 0)
        XCTAssertEqual(s.consumed.load(ordering: .acquiring), pushed)
    }

    func testRingTakesTheAnnouncementOnce() {
        let bell = Doorbell()
        XCTAssertFalse(bell.ring(), "nobody announced")
        bell.announce()
        XCTAssertTrue(bell.ring())
        XCTAssertFalse(bell.ring(), "the first ring took it")
        bell.announce()
        XCTAssertTrue(bell.reclaim())
        XCTAssertFalse(bell.ring(), "reclaimed")
        bell.announce()
        bell.cancel()
        XCTAssertFalse(bell.ring())
    }

    /// Spins (yielding) until `done`, at most 1.5 s: the consumer has had
    /// every chance to run by then unless its wake-up was lost.
    private func waitQuiet(round: Int, _ done: () -> Bool) throws {
        if done() { return }
        let deadline = MonotonicClock.now() + 1_500_000_000
        var spins = 0
        while !done() {
            spins += 1
            if spins & 15 == 0 { sched_yield() }
            if spins & 1023 == 0, MonotonicClock.now() > deadline {
                throw TestFailure("round \(round): the consumer went quiet with work in the ring (a lost wake-up)")
            }
        }
    }
}
