/// Authenticated requests (PROTOCOL.md section 8, "Requests"): a replica
/// takes a request under replica r's key only from r itself — its own
/// clients' requests, or r's spread, which the host accepts only on r's
/// (TLS-authenticated) link. So a backup accepts a PRE-PREPARE only if it
/// holds every request of the batch, under the same key with the same
/// payload: the primary cannot put a request under another replica's key.
extension PBFTReplica {
    enum BatchOrigins: Equatable {
        /// Every request is held here from its origin, with the same payload.
        case authentic
        /// Some are not here yet, or are here with another payload than the batch's
        /// (`contradicted`). Either may still come from the origin: a spread on its way, or
        /// an origin that re-used a stamp after its disk was wiped (`RequestPool.sentAlso`).
        /// The batch waits for them; a forging primary's never come, and the request timer
        /// replaces it.
        case missing(Set<RequestKey>, contradicted: Bool)
        /// A request under a replica id that does not exist: the primary lied.
        case forged(RequestKey)
    }

    /// A stale request (its origin already had it, or a later one, executed here) is not
    /// checked: whatever its payload, no correct replica executes it (`RequestStamps`), and
    /// a correct primary can propose one — it may not have executed yet what this replica
    /// has, or its origin's requests may have reached it out of order (a resend).
    func checkOrigins(_ batch: Pbft_request_batch) -> BatchOrigins {
        var missing = Set<RequestKey>()
        var contradicted = false
        for request in batch.batch {
            let key = RequestKey(request)
            if key.replica >= UInt64(options.n) { return .forged(key) }
            if pool.isExecutedOrOlder(key) { continue }
            let held: Bool
            if let first = pool.request(key) {
                held = first.payload == request.payload || pool.sentAlso(key, payload: request.payload)
            } else if key.replica == id, let own = ownRequests.request(key) {
                held = own.payload == request.payload
            } else {
                missing.insert(key)
                continue
            }
            if !held {
                missing.insert(key)
                contradicted = true
            }
        }
        return missing.isEmpty ? .authentic : .missing(missing, contradicted: contradicted)
    }

    /// A backup's gate before accepting `pp` (true: go on). A forged batch is
    /// refused and the primary suspected; one with requests not here yet (or here
    /// with another payload) is held.
    func admitPrePrepare(_ pp: Pbft_pre_prepare) -> Bool {
        guard options.authenticatedRequests, !pp.requestBatch.batch.isEmpty,
              !vouched(view: pp.view, sequence: pp.sequenceNumber, digest: pp.batchDigest) else { return true }
        switch checkOrigins(pp.requestBatch) {
        case .authentic:
            return true
        case .forged:
            counters.droppedForgedRequests += 1
            startViewChange(to: view + 1, reason: .forgedRequest)
            return false
        case .missing(let keys, let contradicted):
            if heldPrePrepares.hold(pp, missing: keys, contradicted: contradicted) {
                counters.heldPrePrepares += 1
                if contradicted { counters.droppedForgedRequests += 1 }
            }
            startTimerIfOutstanding()
            return false
        }
    }

    /// The primary proposed this batch and f backups other than this one prepared it: of
    /// those f+1 replicas at least one is correct, and a correct primary proposes (a correct
    /// backup prepares) only requests it holds from their origins. So the batch is authentic
    /// even if some of its requests never reached this replica (a spread lost while it was
    /// cut off, restarting, or transferring state), whose origin may be down now.
    func vouched(view: UInt64, sequence: UInt64, digest: String) -> Bool {
        guard let cert = log[view, sequence] else { return false }
        var count = 0
        for (replica, d) in cert.prepares where replica != id && replica != primary(of: view) && d == digest { count += 1 }  // order-free
        return count >= options.f
    }

    /// A PREPARE came for (view, sequence): a PRE-PREPARE held there goes on once vouched for.
    func releaseVouched(view: UInt64, sequence: UInt64) {
        guard !heldPrePrepares.isEmpty, view == self.view, activeView,
              let digest = heldPrePrepares.digest(view: view, sequence: sequence),
              vouched(view: view, sequence: sequence, digest: digest),
              let pp = heldPrePrepares.take(view: view, sequence: sequence) else { return }
        receivePrePrepare(pp)
    }

    /// A request was added to the pool: the PRE-PREPAREs that waited only for it go on.
    func releaseHeld(for key: RequestKey) {
        guard !heldPrePrepares.isEmpty else { return }
        for pp in heldPrePrepares.arrived(key) where pp.view == view && activeView { receivePrePrepare(pp) }
    }
}

/// L6, a censoring primary: the request timer restarts whenever a batch executes
/// (as in Fabric), so a primary that orders everything except one replica's
/// requests would keep its view for ever. Castro and Liskov time each request;
/// here the oldest outstanding request is timed from when it became the oldest in
/// this view: waiting `options.starvationTicks` at the head of this replica's queue
/// starts a view change, whatever else executes. Under plain overload the primary
/// cuts batches oldest first, so the head here is ordered within a few batch rounds
/// (it reached the primary about when it reached this replica): no view change.
///
/// It is also what orders a spread lost without a disconnect (`overflow: reject`
/// dropped it from a full ring, so the reconnect resend never comes) under
/// continuous load, where the request timer keeps restarting (issue 21). Proof:
/// the lost request r stays in its origin's pool; within a few batch rounds the
/// requests ahead of it there are ordered (oldest first) and r is the head; this
/// watch then fires `starvationTicks` (8 × request timeout) later, at the latest,
/// and (1) spreads the origin's own outstanding requests again, r first, to every
/// replica, (2) starts a view change. Any other replica holding r starves on it the
/// same way; with f+1 of them the view changes and the new primary, which holds r
/// now, orders it. If the origin is alone, primary v gets r from (1) and orders it
/// in view v; the origin takes that block by state transfer from the checkpoints
/// the others announce. Either way r is ordered, and its origin's host answers the
/// client from the block, within 8 request timeouts plus a view change (or a state
/// transfer) after r became the head. (PBFTLostSpreadTests: fails with this watch off.)
extension PBFTReplica {
    func watchOldestRequest() {
        guard activeView, let oldest = pool.oldest else { oldestWatch = nil; return }
        guard let watch = oldestWatch, watch.key == oldest.key, watch.view == view else {
            oldestWatch = (oldest.key, view, now)
            return
        }
        guard now - watch.since >= options.starvationTicks else { return }
        oldestWatch = nil
        resendOwnRequests()
        startViewChange(to: view + 1, reason: .requestStarved)
    }
}
