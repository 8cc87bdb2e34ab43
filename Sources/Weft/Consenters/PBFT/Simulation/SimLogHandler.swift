import Logging

/// A host's log lines (notice and above) go into the simulation's trace,
/// tagged with the host's name, instead of stderr.
struct SimLogHandler: LogHandler {
    let trace: SimTrace
    let who: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        trace.note(who, "\(event.level): \(event.message)")
    }
}
