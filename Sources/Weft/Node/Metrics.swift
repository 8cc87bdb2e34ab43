/// Counters of the reactor thread (plain integers: only that thread writes
/// them, and /metrics is served from the same thread).
final class ReactorMetrics {   // reactor thread only: no dynamic exclusivity checks
    @exclusivity(unchecked) var framesIn = 0
    @exclusivity(unchecked) var framesOut = 0
    @exclusivity(unchecked) var bytesIn = 0
    @exclusivity(unchecked) var bytesOut = 0
    @exclusivity(unchecked) var accepted = 0
    @exclusivity(unchecked) var dialed = 0
    var closed: [CloseCause: Int] = [:]
    @exclusivity(unchecked) var established = 0
    @exclusivity(unchecked) var ringFullEvents = 0
    @exclusivity(unchecked) var rejected = 0
    @exclusivity(unchecked) var decodeErrors = 0
    @exclusivity(unchecked) var slowPeers = 0
    @exclusivity(unchecked) var outboundDropped = 0
    @exclusivity(unchecked) var acceptErrors = 0
    @exclusivity(unchecked) var socketOptionFailures = 0
    @exclusivity(unchecked) var unhandledMessages = 0
    @exclusivity(unchecked) var tlsHandshakes = 0
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
