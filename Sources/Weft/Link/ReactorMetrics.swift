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
