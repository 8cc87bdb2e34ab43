/// The whole-host deterministic simulator (docs/FAULTS.md, "The simulator"):
/// N real `PBFTHost`s over a simulated clock, disk and network, with crashes,
/// faults and a byzantine replica, held to the checker's properties.
public enum Simulation {
    /// Runs one seed. Same seed and options, same run (given deterministic
    /// hashing: `weft sim` sets SWIFT_DETERMINISTIC_HASHING).
    public static func run(seed: UInt64, options: SimulationOptions = SimulationOptions()) -> SimulationReport {
        let world = SimWorld(seed: seed, options: options)
        world.run()
        return SimulationReport(
            seed: seed, options: options, scenario: world.scenario.description, ticks: world.tick,
            violations: world.checker.violations, violationCount: world.checker.found, traceTail: world.trace.tail, fullTrace: world.trace.all,
            heights: world.slots.map { $0.ledger.map { Int($0.durableHeight) } ?? -1 },
            acknowledged: world.clients.requests.filter { $0.answers.contains { $0.success } }.count,
            submitted: world.clients.requests.count, delivered: world.network.delivered,
            faults: world.faults.started.values.reduce(0, +))
    }
}
