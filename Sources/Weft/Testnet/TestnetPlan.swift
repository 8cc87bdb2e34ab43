/// Where each validator of a `weft testnet` goes: its host and its ports.
/// Validators that share a host get consecutive peer ports (from the port
/// given for it, skipping ports another validator there has), and consecutive
/// operations and REST ports from `--ops-port` and `--rest-port`, or from the
/// first port above them where such a block is free (on one host, REST from
/// 7050 would meet the peer ports 7051...: it moves past them).
public struct TestnetPlan: Sendable, Equatable {
    public let spec: TestnetSpec
    public let validators: [ValidatorPlacement]

    public static let consensusPlugins = ["pbft", "noops"]

    public init(_ spec: TestnetSpec) throws(TestnetError) {
        let n = spec.validators
        guard (1...1024).contains(n) else { throw TestnetError("--validators: \(n) is outside 1...1024") }
        guard TestnetPlan.consensusPlugins.contains(spec.consensus) else {
            throw TestnetError("--consensus: '\(spec.consensus)' is not one of \(TestnetPlan.consensusPlugins.joined(separator: ", "))")
        }
        guard spec.consensus != "pbft" || n >= 4 else {
            throw TestnetError("--validators: PBFT needs at least 4 validators (N >= 3f+1 with f >= 1), not \(n)")
        }
        guard spec.hosts.count == n || spec.hosts.count == 1 else {
            throw TestnetError("--hosts: \(spec.hosts.count) host:port values for \(n) validators (give one for each, or one for all)")
        }
        self.spec = spec
        validators = try TestnetPlan.place(spec)
    }

    /// PBFT's f for N validators: the most faulty replicas N >= 3f+1 tolerates.
    public var faultsTolerated: Int { (spec.validators - 1) / 3 }

    private static func place(_ spec: TestnetSpec) throws(TestnetError) -> [ValidatorPlacement] {
        let given = (0..<spec.validators).map { spec.hosts.count == 1 ? spec.hosts[0] : spec.hosts[$0] }
        let hostKeys = given.map { $0.host.lowercased() }
        // Peer ports first: the one given, or the next one no validator on that host has.
        var taken: [String: Set<Int>] = [:]
        var peerPorts: [Int] = []
        for (index, hostPort) in given.enumerated() {
            var port = Int(hostPort.port)
            while taken[hostKeys[index], default: []].contains(port) { port += 1 }
            guard port <= 65535 else { throw TestnetError("--hosts: vp\(index) on \(hostPort.host) would need a peer port past 65535") }
            taken[hostKeys[index], default: []].insert(port)
            peerPorts.append(port)
        }
        // Then one block of consecutive operations ports and one of REST ports per host.
        let opsStart = try blockStarts(hostKeys, from: Int(spec.operationsPort), what: "operations", taken: &taken)
        let restStart = try blockStarts(hostKeys, from: Int(spec.restPort), what: "REST", taken: &taken)
        var countOnHost: [String: Int] = [:]
        return given.enumerated().map { index, hostPort in
            let key = hostKeys[index]
            let k = countOnHost[key, default: 0]
            countOnHost[key] = k + 1
            return ValidatorPlacement(name: "vp\(index)", index: index, host: hostPort.host, peerPort: UInt16(peerPorts[index]),
                                      operationsPort: UInt16(opsStart[key]! + k), restPort: UInt16(restStart[key]! + k))
        }
    }

    /// For each host, the first of as many consecutive ports as it has validators: the lowest
    /// from `base` up whose block holds no port already taken there.
    private static func blockStarts(_ hostKeys: [String], from base: Int, what: String,
                                    taken: inout [String: Set<Int>]) throws(TestnetError) -> [String: Int] {
        var starts: [String: Int] = [:]
        for key in Set(hostKeys) {
            let count = hostKeys.filter { $0 == key }.count
            let used = taken[key, default: []]
            var start = base
            while let clash = (start..<start + count).last(where: used.contains) { start = clash + 1 }
            guard start + count - 1 <= 65535 else {
                throw TestnetError("--hosts: \(count) \(what) ports from \(start) on \(key) go past 65535; choose a lower --\(what == "REST" ? "rest" : "ops")-port")
            }
            taken[key, default: []].formUnion(start..<start + count)
            starts[key] = start
        }
        return starts
    }
}
