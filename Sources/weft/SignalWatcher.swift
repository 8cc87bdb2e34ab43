import CWeftLinux
import Foundation
import Glibc

/// SIGTERM and SIGINT, counted, through a signalfd read on a thread of its
/// own. Made before the node starts any thread, so every thread inherits
/// the blocked mask: a signal that comes while the node is still starting
/// waits to be read, where a dispatch signal source, registered
/// asynchronously after SIG_IGN, could lose it.
final class SignalWatcher: @unchecked Sendable {
    private let fd: Int32

    /// Nil when the signals cannot be routed to a descriptor (the reason is in errno).
    init?() {
        fd = cweft_termination_signalfd()
        guard fd >= 0 else { return nil }
    }

    /// Calls `handler(signal, count)` on the watcher's thread for each signal, from the first.
    func start(_ handler: @escaping @Sendable (Int32, Int) -> Void) {
        let fd = self.fd
        let thread = Thread {
            var count = 0
            var info = signalfd_siginfo()
            while true {
                let n = withUnsafeMutableBytes(of: &info) { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n == MemoryLayout<signalfd_siginfo>.size else { return }
                count += 1
                handler(Int32(info.ssi_signo), count)
            }
        }
        thread.name = "weft.signals"
        thread.start()
    }
}
