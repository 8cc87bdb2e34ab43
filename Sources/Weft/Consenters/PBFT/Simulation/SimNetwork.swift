/// The simulated network between the hosts: latency, FIFO per connection
/// unless reordering, loss, duplication, extra delay, drops by message type,
/// connections that break (what was in flight is lost) and `peers()` that
/// says which are established. Answers to clients arrive at once.
final class SimNetwork {
    struct InFlight {
        let from: Int
        let to: Int
        let epoch: Int
        let toIncarnation: Int
        let kind: SimMessageKind
        let message: Message
    }

    unowned let world: SimWorld
    let n: Int
    let names: [String]
    private(set) var links: [[SimLink]]
    /// Messages in flight, as arrivals by delivery time (ties in sending order).
    private var queue = TimerHeap()
    private(set) var sent = 0
    private(set) var delivered = 0

    init(world: SimWorld, names: [String]) {
        self.world = world
        n = names.count
        self.names = names
        links = Array(repeating: Array(repeating: SimLink(), count: names.count), count: names.count)
    }

    var now: UInt64 { world.now }

    /// Is the connection between `a` and `b` established (both up, link up)?
    func connected(_ a: Int, _ b: Int) -> Bool {
        a != b && world.isUp(a) && world.isUp(b) && links[a][b].isUp(now)
    }

    func peers(of host: Int) -> [PeerInfo] {
        (0..<n).filter { connected(host, $0) }.map { PeerInfo(id: PeerID(name: names[$0]), address: names[$0], type: .validator) }
    }

    // MARK: sending

    func broadcast(from: Int, _ message: Message) {
        let classified = SimMessageKind.of(message)   // decoded once, not once a target
        for to in 0..<n where connected(from, to) { send(from: from, to: to, message, classified) }
    }

    /// To a replica (throws when not established, as the real communicator) or to a client.
    func unicast(from: Int, _ message: Message, to name: String) throws(CommunicatorError) {
        guard let to = names.firstIndex(of: name) else { return world.clientReceives(message, client: name, from: from) }
        guard connected(from, to) else { throw .unknownPeer(name) }
        send(from: from, to: to, message, SimMessageKind.of(message))
    }

    private func send(from: Int, to: Int, _ message: Message, _ classified: (kind: SimMessageKind, inner: Pbft_message?)) {
        let (kind, inner) = classified
        world.checker.sent(from: from, to: to, kind: kind, inner: inner, message: message)
        if kind == .newView, let after = world.slots[from].crashAfterNewView {
            world.slots[from].crashAfterNewView = nil
            world.slots[from].incarnation.countdown = after
            world.trace.note(names[from], "sent a NEW-VIEW: dies in \(after) effects")
        }
        var outgoing = [(kind, message)]
        if let liar = world.byzantine, liar.id == from {
            outgoing = liar.rewrite(kind: kind, inner: inner, message: message, to: to).map { (SimMessageKind.of($0).kind, $0) }
        }
        for (kind, message) in outgoing { enqueue(from: from, to: to, kind: kind, message) }
    }

    private func enqueue(from: Int, to: Int, kind: SimMessageKind, _ message: Message) {
        sent += 1
        var link = links[from][to]
        defer { links[from][to] = link }
        if now < link.dropUntil && link.dropKind == kind { return world.trace.detail(names[from], "drop \(kind) to \(names[to]) (by type)") }
        if now < link.lossUntil && world.rng.chance(link.loss) { return world.trace.detail(names[from], "lost \(kind) to \(names[to])") }
        let copies = now < link.duplicateUntil && world.rng.chance(link.duplicate) ? 2 : 1
        for _ in 0..<copies {
            var at = now + UInt64(world.rng.between(1, world.scenario.maxLatencyMillis))
            if now < link.delayUntil { at += UInt64(link.delay) }
            if now >= link.reorderUntil { at = max(at, link.lastDelivery); link.lastDelivery = at }
            let item = InFlight(from: from, to: to, epoch: link.epoch, toIncarnation: world.incarnation(of: to),
                                kind: kind, message: message)
            queue.insert(deadline: at) { [unowned self] in arrive(item) }
        }
    }

    // MARK: delivering

    /// Delivers every message due by now, in time order.
    func deliverDue() {
        while let arrival = queue.popDue(now: now) { arrival() }
    }

    /// Lost if its connection broke or its receiver's process died since it was sent.
    private func arrive(_ item: InFlight) {
        guard links[item.from][item.to].epoch == item.epoch, world.isUp(item.to),
              world.incarnation(of: item.to) == item.toIncarnation else { return }
        delivered += 1
        world.trace.detail(names[item.to], "<- \(item.kind) from \(names[item.from])")
        world.deliver(item.message, kind: item.kind, from: item.from, to: item.to)
    }

    // MARK: faults

    /// The connection between `a` and `b` breaks for `millis` (in-flight messages are lost).
    func breakLink(_ a: Int, _ b: Int, for millis: Int) {
        for (x, y) in [(a, b), (b, a)] {
            links[x][y].downUntil = max(links[x][y].downUntil, now + UInt64(millis))
            links[x][y].epoch += 1
        }
    }

    /// A host died: its connections reset.
    func resetConnections(of host: Int) {
        for other in 0..<n where other != host {
            links[host][other].epoch += 1
            links[other][host].epoch += 1
        }
    }

    func update(_ from: Int, _ to: Int, _ change: (inout SimLink) -> Void) { change(&links[from][to]) }

    func healAll() {
        for a in 0..<n { for b in 0..<n { links[a][b].heal() } }
    }
}
