/// Counters of the reactor thread (plain integers: only that thread writes
/// them, and /metrics is served from the same thread).
final class ReactorMetrics {
    var framesIn = 0
    var framesOut = 0
    var bytesIn = 0
    var bytesOut = 0
    var accepted = 0
    var dialed = 0
    var closed: [CloseCause: Int] = [:]
    var established = 0
    var ringFullEvents = 0
    var rejected = 0
    var decodeErrors = 0
    var slowPeers = 0
    var outboundDropped = 0
    var acceptErrors = 0
    var socketOptionFailures = 0
    var unhandledMessages = 0
}

/// Prometheus text exposition, one metric at a time.
struct PrometheusText {
    private(set) var text = ""

    mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples {
            text += sample.labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(sample.labels)} \(sample.value)\n"
        }
    }

    mutating func counter(_ name: String, _ help: String, _ value: Int) { metric(name, "counter", help, [("", value)]) }
    mutating func gauge(_ name: String, _ help: String, _ value: Int) { metric(name, "gauge", help, [("", value)]) }
}
