/// Prometheus text exposition, one metric at a time: the one writer of the
/// format (counters, gauges, labelled samples, histograms, process metrics).
struct PrometheusText {
    private(set) var text = ""

    /// `# HELP` and `# TYPE` of a metric; its samples follow.
    mutating func header(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// One sample line: `name{labels} value` (no braces without labels).
    mutating func sample(_ name: String, labels: String = "", _ value: String) {
        text += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
    }

    mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
        header(name, type, help)
        for sample in samples { self.sample(name, labels: sample.labels, String(sample.value)) }
    }

    mutating func counter(_ name: String, _ help: String, _ value: Int) { metric(name, "counter", help, [("", value)]) }
    mutating func gauge(_ name: String, _ help: String, _ value: Int) { metric(name, "gauge", help, [("", value)]) }

    /// A metric with one real value, written as an integer when it is one.
    mutating func real(_ name: String, _ type: String, _ help: String, _ value: Double) {
        header(name, type, help)
        sample(name, value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))
    }
}
