/// PRE-PREPAREs a backup cannot accept yet: their batch names requests this
/// replica has not received from their origins (the spread is still on its
/// way, or was lost, or the primary made the key up). Each is accepted once
/// every missing request arrives, and re-checked then; the request timer runs
/// meanwhile, so one whose requests never come ends in a view change.
/// Bounded: one per (view, sequence) in the window, dropped on a view change.
struct HeldPrePrepares {
    private var held: [CertKey: (prePrepare: Pbft_pre_prepare, missing: Set<RequestKey>, contradicted: Bool)] = [:]
    /// Missing request -> the held PRE-PREPAREs that wait for it.
    private var waitingOn: [RequestKey: [CertKey]] = [:]

    var isEmpty: Bool { held.isEmpty }
    var count: Int { held.count }

    /// Some held PRE-PREPARE carries a payload its origin has not sent here (so far): when
    /// the request timer runs out, the view change names a forgery.
    var anyContradicted: Bool { held.values.contains { $0.contradicted } }

    /// Holds `prePrepare` until each of `missing` arrives (a repeat for the same (view,
    /// sequence) is ignored: false). `contradicted`: some of them are held here with another payload.
    @discardableResult
    mutating func hold(_ prePrepare: Pbft_pre_prepare, missing: Set<RequestKey>, contradicted: Bool = false) -> Bool {
        let key = CertKey(view: prePrepare.view, sequence: prePrepare.sequenceNumber)
        guard held[key] == nil else { return false }
        held[key] = (prePrepare, missing, contradicted)
        for request in missing { waitingOn[request, default: []].append(key) }
        return true
    }

    /// `request` arrived: the PRE-PREPAREs that now lack nothing, in sequence order (taken out).
    mutating func arrived(_ request: RequestKey) -> [Pbft_pre_prepare] {
        guard let keys = waitingOn.removeValue(forKey: request) else { return [] }
        var ready: [CertKey] = []
        for key in keys {
            guard held[key] != nil else { continue }
            held[key]!.missing.remove(request)
            if held[key]!.missing.isEmpty { ready.append(key) }
        }
        return ready.sorted().compactMap { held.removeValue(forKey: $0)?.prePrepare }
    }

    /// The one held for (view, sequence), taken out.
    mutating func take(view: UInt64, sequence: UInt64) -> Pbft_pre_prepare? {
        held.removeValue(forKey: CertKey(view: view, sequence: sequence))?.prePrepare
    }

    func digest(view: UInt64, sequence: UInt64) -> String? {
        held[CertKey(view: view, sequence: sequence)]?.prePrepare.batchDigest
    }

    /// Keeps only those of `view` above `sequence` (a view change, or a stable checkpoint).
    mutating func keep(view: UInt64, above sequence: UInt64) {
        held = held.filter { $0.key.view == view && $0.key.sequence > sequence }
        waitingOn = waitingOn.compactMapValues { keys in
            let left = keys.filter { held[$0] != nil }
            return left.isEmpty ? nil : left
        }
    }
}
