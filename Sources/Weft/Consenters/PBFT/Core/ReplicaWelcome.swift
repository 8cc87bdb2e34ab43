extension PBFTReplica {
    /// Replica `replica` (re)connected; the host calls this on each new connection.
    /// Tell it where this replica stands: its last checkpoint and, active in a view
    /// after the first, its VIEW-CHANGE for that view and (as that view's primary)
    /// the NEW-VIEW: what a lagging replica's VIEW-CHANGE would get in answer. A
    /// restarted replica so learns the current view and installs it at once, instead
    /// of waiting for traffic and timeouts to carry it through view changes of its
    /// own (issue 21, L5). Fabric's messages, sent unasked (PROTOCOL.md section 10).
    func welcome(_ replica: UInt64) {
        announceCheckpoint(to: replica)
        guard activeView, view > 0, replica != id, replica < UInt64(options.n) else { return }
        if let own = viewChanges[view]?[id] {
            answeredBehind[replica] = now
            send(.viewChange(own), to: replica)
        }
        if isPrimary, let nv = newViews[view] { send(.newView(nv), to: replica) }
    }

    /// Sends `replica` a CHECKPOINT for the last batch executed here (what the
    /// idle announcement says), for a replica that just (re)connected and may
    /// have missed it: f+1 of them past its own ledger make it catch up.
    func announceCheckpoint(to replica: UInt64) {
        guard lastExecuted > 0, !lastExecutedID.isEmpty else { return }
        recordAnnouncedExecution()
        send(.checkpoint(checkpoint(lastExecuted, lastExecutedID)), to: replica)
    }
}
