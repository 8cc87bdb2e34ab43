import Foundation

/// One seed's world: N hosts, the network between them, their clients, the
/// faults, the byzantine replica (if any) and the checker, all driven by one
/// seeded random source and a simulated clock in milliseconds (10 to a tick).
/// Nothing depends on the wall clock or on hashing order: same seed, same run.
final class SimWorld {
    let seed: UInt64
    let options: SimulationOptions
    let scenario: SimScenario
    var rng: SimRandom
    private(set) var now: UInt64 = 0
    private(set) var tick = 0
    let trace: SimTrace
    private(set) var slots: [SimHostSlot] = []
    private(set) var network: SimNetwork!
    private(set) var checker: SimChecker!
    private(set) var faults: SimFaults!
    let clients: SimClients
    let byzantine: SimByzantine?
    let names: [String]
    private var timers = TimerHeap()
    private(set) var quiet = false
    let load: SimLoadPhase
    /// Each replica's VIEW-CHANGE signing secret (`SimViewChangeKeys`).
    let keySecrets: [[UInt8]]

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        rng = SimRandom(seed: seed)
        let scenario = SimScenario(replicas: options.replicas, signed: !options.unsigned, seed: seed, rng: &rng)
        self.scenario = scenario
        trace = SimTrace(verbose: options.trace)
        clients = SimClients(seed: seed)
        load = SimLoadPhase(steps: options.steps, quietTicks: options.quietTicks)
        keySecrets = SimViewChangeKeys.secrets(seed: seed, replicas: options.replicas)
        names = (0..<options.replicas).map { "vp\($0)" }
        byzantine = scenario.byzantineID.map {
            SimByzantine(id: $0, lies: scenario.lies, censored: scenario.censored, n: options.replicas, seed: seed)
        }
        network = nil
        checker = nil
        faults = nil
        trace.clockMillis = { [unowned self] in now }
        network = SimNetwork(world: self, names: names)
        checker = SimChecker(world: self, hosts: options.replicas)
        faults = SimFaults(world: self)
        for id in 0..<options.replicas {
            let clock = SimClock(skewMillis: Int64(rng.between(-2000, 2000))) { [unowned self] in now }
            slots.append(SimHostSlot(id: id, clock: clock, tickPhase: rng.below(10)))
        }
    }

    var settings: PBFTHostSettings {
        PBFTHostSettings(options: scenario.options, replicaNames: names, selfReplica: 0, maxTransactionBytes: 1 << 20,
                         blocksPerRequest: scenario.blocksPerRequest, syncTimeoutTicks: scenario.syncTimeoutTicks)
    }

    func isUp(_ host: Int) -> Bool { slots[host].isUp }
    func incarnation(of host: Int) -> Int { slots[host].incarnation.number }
    func isCorrect(_ host: Int) -> Bool { byzantine?.id != host }

    /// Runs `options.steps` ticks with faults and load, then `options.quietTicks` without faults, then checks.
    func run() {
        start()
        advance(ticks: options.steps + options.quietTicks)
        checker.finish()
    }

    /// Boots every host.
    func start() {
        trace.note("-", "seed \(seed): \(scenario)")
        for slot in slots { boot(slot) }
    }

    /// Runs `ticks` more ticks (the faults stop after `options.steps` of them in all).
    func advance(ticks: Int) {
        for _ in 0..<ticks {
            if tick == options.steps { enterQuiet() }
            runTick()
        }
    }

    private func runTick() {
        for millisecond in 0..<10 {
            now += 1
            while let timer = timers.popDue(now: now) { timer() }
            network.deliverDue()
            for slot in slots where slot.tickPhase == millisecond && slot.isUp {
                slot.host?.tick()
                settle(slot)
            }
            for slot in slots where slot.isUp {
                flushRecords(slot)
                flush(slot)
            }
        }
        tick += 1
        if !quiet {
            faults.step()
            if rng.chance(min(scenario.requestRate, orderableRate)), !faults.idleTransfer.pausesClients { submit(to: rng.below(slots.count)) }
        } else {
            if tick == options.steps + 50 { for host in slots.indices where isCorrect(host) { submit(to: host) } }
            if load.startIfDue(tick: tick, backlogAnswered: backlogAnswered) {
                trace.note("-", "the load starts" + (tick >= load.latest ? " (the latest start: requests of the faulty phase still wait)" : " (every earlier request answered)"))
            }
            if tick == loadTicks.lowerBound, let byzantine, !byzantine.censoring {
                byzantine.startCensoring()
                trace.note(names[byzantine.id], "starts censoring vp\(byzantine.censored)'s requests")
            }
            if loadTicks.contains(tick), rng.chance(loadRate) { submit(to: rng.below(slots.count)) }
            if let period = steadyLoadPeriod, loadTicks.contains(tick), (tick - loadTicks.lowerBound) % period == 0 {
                let uncensored = slots.indices.filter { isCorrect($0) && $0 != byzantine?.censored }
                submit(to: uncensored[(tick - loadTicks.lowerBound) / period % uncensored.count])
            }
        }
        if let byzantine, tick % 50 == 0, isUp(byzantine.id), let replay = byzantine.unprompted() {
            trace.note(names[byzantine.id], "replays an old VIEW-CHANGE")
            network.broadcast(from: byzantine.id, replay)
        }
    }

    /// Clients keep sending for a while after the faults stop (`SimLoadPhase`: for a third of the
    /// quiet phase, once the faulty phase's backlog is answered), so that a request is bounded while
    /// others execute (`SimProperty.answerBound`, L6).
    var loadTicks: Range<Int> { load.ticks }

    /// Every request sent so far to a correct validator is answered, or never will be: its
    /// validator is left down, or died since (its client's connection went with it).
    private func backlogAnswered() -> Bool {
        while load.scanned < clients.requests.count {
            let r = clients.requests[load.scanned]
            if r.answers.isEmpty && isCorrect(r.host) && !slots[r.host].leftDown && slots[r.host].incarnation.number == r.incarnation { return false }
            load.scanned += 1
        }
        return true
    }

    /// Requests a tick the seed's PBFT knobs surely order: a window of `logSize` sequences of
    /// `batchSize` requests goes round in about 0.3-0.4 s here (fsyncs of up to 40 ms before
    /// PREPARE, COMMIT and CHECKPOINT), and `batchSize × logSize / 80` a tick stays under half
    /// of that. Clients never offer more, in either phase: a backlog that grows for the whole
    /// run is not a liveness failure any protocol could avoid. (At a flat 0.3 in the load, seeds
    /// 1436, batch 1 and log 6, and 2980, batch 2 and log 4, were offered twice what the cluster
    /// orders; at 0.5 a tick through a faultless first phase, seed 6899, batch 1 and log 6, ended
    /// the run with 127 requests still queued behind the backlog, the cluster committing.)
    var orderableRate: Double { Double(scenario.options.batchSize) * Double(scenario.options.logSize) / 80 }

    /// The load phase's requests per tick: 0.3, or what the knobs order (`orderableRate`).
    var loadRate: Double { min(0.3, orderableRate) }

    /// With a censoring replica, the load phase also sends a request every `period` ticks (a
    /// quarter of the request timeout) to the uncensored correct validators in turn: some batch
    /// then executes within every request timeout, the plain request timer keeps restarting, and
    /// only the watch on the oldest request (`watchOldestRequest`) can replace the censor within
    /// the answer bound (L6). One request a period in all, not one per validator: at batch size 1,
    /// a log of 4 or 8 and a request timeout of 20-39 ticks that overloaded the cluster (seeds 1038,
    /// 1211: answers late, the censor long replaced).
    var steadyLoadPeriod: Int? {
        guard let byzantine, byzantine.lies.contains(.censor) else { return nil }
        return max(2, scenario.options.requestTimeoutTicks / 4)
    }

    func schedule(after millis: Int, _ action: @escaping () -> Void) { timers.insert(deadline: now + UInt64(max(1, millis)), action: action) }

    // MARK: hosts

    func boot(_ slot: SimHostSlot) {
        var settings = self.settings
        settings = PBFTHostSettings(options: settings.options, replicaNames: names, selfReplica: UInt64(slot.id),
                                    maxTransactionBytes: settings.maxTransactionBytes, blocksPerRequest: settings.blocksPerRequest,
                                    syncTimeoutTicks: settings.syncTimeoutTicks)
        let keys = options.unsigned ? nil : SimViewChangeKeys(secrets: keySecrets, selfReplica: slot.id)
        slot.boot(settings: settings, txidWindow: 100_000, keys: keys, network: network, trace: trace)
        checker.observeChain(of: slot.id)
    }

    /// After every call into a host: a process that died on the way is taken down.
    func settle(_ slot: SimHostSlot) {
        guard slot.isUp, slot.incarnation.dead else { return }
        crash(slot, powerLoss: slot.plannedPowerLoss, why: "crashed at a step", restartAfter: rng.between(200, 3000))
    }

    /// Kills `slot`'s process (and its page cache with a power loss); restarts it later unless `restartAfter` is nil.
    func crash(_ slot: SimHostSlot, powerLoss: Bool, why: String, restartAfter: Int?) {
        guard slot.isUp else { return }
        slot.crash(powerLoss: powerLoss)
        network.resetConnections(of: slot.id)
        checker.observeChain(of: slot.id)
        trace.note(slot.name, "\(why)\(powerLoss ? " (power loss: unsynced writes lost)" : ""); disk height \(slot.disk.blockCount)")
        if let restartAfter { schedule(after: restartAfter) { [unowned self] in restart(slot) } }
    }

    /// Kills `slot`'s process (if up) and never restarts it, not even when the faults stop.
    func leaveDown(_ slot: SimHostSlot, why: String) {
        slot.leftDown = true
        crash(slot, powerLoss: false, why: why + ", left down for good", restartAfter: nil)
    }

    func restart(_ slot: SimHostSlot) {
        guard !slot.isUp, !slot.leftDown else { return }
        boot(slot)
    }

    /// The ledger writer's turn: write what is queued, fsync, report durable.
    private func flush(_ slot: SimHostSlot) {
        guard let ledger = slot.ledger, ledger.pending,
              isDue(&slot.flushAt, stalledBy: { self.faults.ledgerStall.extraLedgerMillis(of: slot.id) }) else { return }
        ledger.write()
        if crashedAtFlush(slot, between: "a write") { return }
        ledger.sync()
        checker.observeChain(of: slot.id)
        slot.host?.ledgerSettled()
        settle(slot)
    }

    /// The record writer's turn: write what was submitted, fsync, tell the
    /// host (which then sends what waited for those records).
    private func flushRecords(_ slot: SimHostSlot) {
        guard let store = slot.store, store.pending, isDue(&slot.recordsFlushAt) else { return }
        store.write()
        if crashedAtFlush(slot, between: "a records write") { return }
        store.sync()
        slot.host?.recordsSettled()
        settle(slot)
    }

    /// A writer's turn comes a simulated fsync latency (plus a stall's, if any) after it first has work: is it now?
    private func isDue(_ at: inout UInt64?, stalledBy stall: () -> Int = { 0 }) -> Bool {
        guard let due = at else {
            at = now + UInt64(rng.between(1, scenario.maxFsyncMillis) + stall())
            return false
        }
        guard now >= due else { return false }
        at = nil
        return true
    }

    /// A crash planned between a write and its fsync (`SimHostSlot.crashAtFlush`) happens now, if one is.
    private func crashedAtFlush(_ slot: SimHostSlot, between what: String) -> Bool {
        guard let powerLoss = slot.crashAtFlush else { return false }
        crash(slot, powerLoss: powerLoss, why: "crashed between \(what) and its fsync", restartAfter: rng.between(200, 3000))
        return true
    }

    // MARK: messages and clients

    func deliver(_ message: Message, kind: SimMessageKind, from: Int, to: Int) {
        guard let host = slots[to].host else { return }
        if let byzantine, byzantine.id == to, kind == .viewChange { byzantine.overheard(message) }
        if let byzantine, byzantine.id == to, byzantine.ignores(kind, from: from) { return }
        host.receive(message, from: PeerID(name: names[from]))
        host.flush()   // one message, one burst: its records submitted; its sends wait for their fsync
        settle(slots[to])
    }

    /// A client sends a new transaction to `host` (if it is up and correct).
    func submit(to host: Int) {
        let slot = slots[host]
        guard isCorrect(host), let process = slot.host else { return }
        let (client, message) = clients.make(host: host, incarnation: slot.incarnation.number, at: now)
        trace.detail(slot.name, "<- \(clients.requests.last!.txid) from \(client)")
        process.receive(message, from: PeerID(name: client))
        process.flush()
        settle(slot)
    }

    func clientReceives(_ message: Message, client: String, from host: Int) {
        guard let index = clients.record(message, client: client, at: now) else { return }
        let answer = clients.requests[index].answers.last!
        trace.detail(names[host], "-> \(answer.success ? "SUCCESS" : "FAILURE") \(answer.text) to \(client)")
        checker.answered(index, by: host)
    }

    // MARK: the quiet phase

    /// Faults stop: links heal, disks have room, every host is (re)started.
    private func enterQuiet() {
        quiet = true
        let down = slots.filter(\.leftDown).map(\.name)
        trace.note("-", "faults stop: links healed, disks freed, every host restarted" + (down.isEmpty ? "" : " but \(down.joined(separator: ", ")) (left down)"))
        network.healAll()
        timers = TimerHeap()
        for slot in slots {
            slot.disk.full = false
            slot.crashAtFlush = nil
            slot.crashAfterNewView = nil
            slot.incarnation.countdown = nil
            if slot.hasFailed { crash(slot, powerLoss: false, why: "restarted by the operator after a failed write", restartAfter: nil) }
            if !slot.isUp { restart(slot) }
        }
    }
}
