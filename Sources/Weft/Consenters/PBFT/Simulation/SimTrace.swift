/// What happened in one run, for a failing seed's report: the last events
/// always (faults, crashes, restarts, answers, the hosts' notices), and every
/// event, deliveries included, when tracing.
final class SimTrace: @unchecked Sendable {   // one simulation thread
    let verbose: Bool
    private let tailLimit: Int
    private var ring: [String] = []
    private var head = 0
    private(set) var all: [String] = []
    var clockMillis: () -> UInt64 = { 0 }

    init(verbose: Bool, tailLimit: Int = 300) {
        self.verbose = verbose
        self.tailLimit = tailLimit
    }

    /// A line at the current simulated time; `who` names the host ("-" for the world).
    func note(_ who: String, _ text: String) {
        let ms = clockMillis()
        let line = "\(ms / 1000).\(String(ms % 1000 + 1000).dropFirst()) \(who) \(text)"
        if verbose { all.append(line) }
        if ring.count < tailLimit { ring.append(line) } else { ring[head] = line; head = (head + 1) % tailLimit }
    }

    /// A line only when tracing (per-message detail); the text is built only then.
    func detail(_ who: String, _ text: @autoclosure () -> String) {
        if verbose { note(who, text()) }
    }

    var tail: [String] { Array(ring[head...] + ring[..<head]) }
}
