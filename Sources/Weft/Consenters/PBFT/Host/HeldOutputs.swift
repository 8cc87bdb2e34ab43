/// What the host may not let out yet, in the order it was made, each with
/// the record ticket that must be durable first: the ticket of the last
/// records submitted before it, so nothing leaves before every record made
/// before it is durable (order is the rule, even for an output that has no
/// records of its own).
struct HeldOutputs {
    private var waiting: [(ticket: UInt64, output: HeldOutput)] = []
    private var head = 0

    var isEmpty: Bool { head == waiting.count }
    var count: Int { waiting.count - head }

    mutating func hold(_ output: HeldOutput, untilTicket ticket: UInt64) { waiting.append((ticket, output)) }

    /// The oldest output if its records are durable through `durable`; nil otherwise (later ones wait behind it).
    mutating func next(durableThrough durable: UInt64) -> HeldOutput? {
        guard head < waiting.count, waiting[head].ticket <= durable else {
            if head == waiting.count && head > 0 { waiting.removeAll(keepingCapacity: true); head = 0 }
            return nil
        }
        let output = waiting[head].output
        head += 1
        if head > 256 && head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        return output
    }

    /// Everything held, dropped (a failed write: none of it may ever leave); how many.
    mutating func dropAll() -> Int {
        defer { waiting = []; head = 0 }
        return count
    }
}
