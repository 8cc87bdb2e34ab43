// The doorbell's two-thread stress, built with -O on its own by
// scripts/bench/doorbell-stress.sh (the store-buffering window is a few
// instructions wide: a debug build rarely opens it). The fan's pattern: the
// consumer runs only when scheduled, drains, announces it is idle, checks
// once more; the producer pushes and rings. Every round ends with both sides
// quiet, so a lost wake-up leaves the round's item in the ring with nobody
// scheduled, and the bounded wait reports it.
import Glibc
import Synchronization
final class Shared: @unchecked Sendable {
    let ring = SPSCRing<Int>(capacity: 64)
    let idle = Doorbell(announced: true)
    let schedules = Atomic<Int>(0)
    let consumed = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
func now() -> UInt64 { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec) }
let s = Shared()
var tid = pthread_t()
let box = Unmanaged.passRetained(s).toOpaque()
pthread_create(&tid, nil, { arg in
    let s = Unmanaged<Shared>.fromOpaque(arg!).takeUnretainedValue()
    var taken = 0
    while true {
        while s.schedules.load(ordering: .acquiring) == taken {
            if s.stop.load(ordering: .relaxed) { return nil }
        }
        taken += 1
        while true {
            while s.ring.pop() != nil { s.consumed.add(1, ordering: .releasing) }
            s.idle.announce()
            if s.ring.isEmpty || !s.idle.reclaim() { break }
        }
    }
}, box)
let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 3_000_000 : 3_000_000
var pushed = 0, lost = 0
for round in 0..<rounds {
    _ = s.ring.push(round); pushed += 1
    if s.idle.ring() { s.schedules.add(1, ordering: .releasing) }
    let deadline = now() + 2_000_000_000
    while s.consumed.load(ordering: .acquiring) != pushed {
        if now() > deadline { lost += 1; print("lost wake-up at round \(round)"); break }
    }
    if lost > 0 { break }
}
s.stop.store(true, ordering: .relaxed)
print("rounds \(pushed) of \(rounds), lost wake-ups \(lost)")
exit(lost == 0 ? 0 : 1)
