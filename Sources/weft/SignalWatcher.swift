import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import Weft
import WeftTools

/// SIGTERM/SIGINT delivered on a dispatch queue; counts them.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var count = 0
    private let queue = DispatchQueue(label: "weft.signals")

    init(_ handler: @escaping @Sendable (Int32, Int) -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [unowned self] in
                self.count += 1
                handler(sig, self.count)
            }
            source.resume()
            sources.append(source)
        }
    }
}
