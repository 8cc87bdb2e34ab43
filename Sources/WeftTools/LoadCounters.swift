import CWeftLinux
import Foundation
import Glibc
import Histogram
import Synchronization
import Weft

/// Counters shared with the progress reporter.
final class LoadCounters: Sendable {
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let connections = Atomic<Int>(0)
    let alive = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
}
