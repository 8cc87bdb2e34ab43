import Foundation
import SwiftProtobuf

/// What a replica must not forget across a restart (PROTOCOL.md section 8,
/// "Persistence"): its view, its P and Q sets, the batches it pre-prepared and
/// has not yet seen stable, and its own checkpoints. The replica emits
/// `.persist(key:value:)` records (value nil = delete the key) before the
/// messages that depend on them; the host writes them, in order, before it
/// sends anything that follows them in the same `takeActions()`. A restarted
/// replica is built with `PBFTReplica(id:options:lastExecuted:lastCheckpointID:restoring:)`
/// from every record still stored.
///
/// Keys: "view", "installed", "viewchange", "newview", "stable", "viewstart", "pset", "qset", "batch.<digest, base64url>",
/// "chkpt.<sequence>". Values: decimal text for the view and the installed one,
/// "<sequence> <id>" for the last stable checkpoint (h), an
/// encoded `pbft.view_change` for this replica's own VIEW-CHANGE, an encoded `pbft.new_view`
/// for the last NEW-VIEW it sent as primary, encoded `pbft.PQset` for P and Q, an encoded
/// `pbft.request_batch` for a batch, the checkpoint id's text for a checkpoint.
enum PBFTPersistence {
    static let viewKey = "view"
    static let psetKey = "pset"
    static let qsetKey = "qset"
    /// The last view installed here (decimal); "view" above it = a view change under way.
    static let installedKey = "installed"
    /// This replica's VIEW-CHANGE for "view" (encoded `pbft.view_change`), resent after a restart.
    static let viewChangeKey = "viewchange"
    /// The last NEW-VIEW this replica built as primary (encoded `pbft.new_view`), stored before
    /// it is sent: a restarted primary resends it, never a different one for the same view.
    static let newViewKey = "newview"
    /// The last stable checkpoint, h: "<sequence> <id>" (id "" when unknown).
    static let stableKey = "stable"
    /// The checkpoint the last view processed here started from: "<view> <sequence> <id>"
    /// (`PBFTReplica.viewStart`): a restart keeps that view's pre-prepares above it.
    static let viewStartKey = "viewstart"

    static func decodeViewStart(_ bytes: [UInt8]?) -> (view: UInt64, sequence: UInt64, id: String)? {
        guard let bytes else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let v = UInt64(parts[0]), let n = UInt64(parts[1]) else { return nil }
        return (v, n, String(parts[2]))
    }

    static func decodeStable(_ bytes: [UInt8]?) -> (sequence: UInt64, id: String)? {
        guard let bytes else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard let n = UInt64(parts[0]) else { return nil }
        return (n, parts.count > 1 ? String(parts[1]) : "")
    }

    /// "batch." and the digest in URL-safe base64 ('+' as '-', '/' as '_'): a file name. Byte by
    /// byte: Foundation's `replacingOccurrences` took a fifth of the whole-host simulator's time.
    static func batchKey(_ digest: String) -> String {
        var key = Array("batch.".utf8)
        key.reserveCapacity(key.count + digest.utf8.count)
        for byte in digest.utf8 {
            key.append(byte == UInt8(ascii: "+") ? UInt8(ascii: "-") : byte == UInt8(ascii: "/") ? UInt8(ascii: "_") : byte)
        }
        return String(decoding: key, as: UTF8.self)
    }

    static func checkpointKey(_ sequence: UInt64) -> String { "chkpt.\(sequence)" }

    /// The last executed sequence number this replica announced a checkpoint for, and its
    /// id: "<sequence> <id>". The ledger says how far a replica executed only up to its last
    /// block; null requests after it leave none, and a replica that announced a checkpoint
    /// for one must still hold it after a restart.
    static let executedKey = "executed"

    /// A checkpoint this replica announced between K-th ones: its id (`Checkpoints.announced`).
    static func announcedKey(_ sequence: UInt64) -> String { "announced.\(sequence)" }

    static func encode(_ entries: [Pbft_view_change.PQ]) -> [UInt8] {
        var set = Pbft_PQset()
        set.set = entries
        return PBFTEncoding.bytes(set)
    }

    static func decodePQ(_ bytes: [UInt8]?) -> [Pbft_view_change.PQ] {
        guard let bytes, let set = try? Pbft_PQset(serializedBytes: bytes) else { return [] }
        return set.set
    }
}

extension PBFTReplica {
    func persist(_ key: String, _ value: [UInt8]?) {
        if !stableRecorded {
            // The starting h goes with the first record: a restart from records must find it.
            stableRecorded = true
            if key != PBFTPersistence.stableKey { persistStable(lowWatermark, checkpoints.own[lowWatermark] ?? "") }
        }
        outputs.append(.persist(key: key, value: value))
    }

    func persistView() { persist(PBFTPersistence.viewKey, Array("\(view)".utf8)) }

    func persistStable(_ n: UInt64, _ id: String) { persist(PBFTPersistence.stableKey, Array("\(n) \(id)".utf8)) }

    /// Before a CHECKPOINT for `lastExecuted` leaves (an idle one, or one told to a replica that
    /// reconnected): the execution it announces is recorded, so that a restart does not forget
    /// null requests executed after the last block (whole-host seed 453: vp0 and vp2 announced
    /// sequence 3, a null request after block 2, and restarted at 2; vp1 had moved h to 3 on
    /// their word, the checkpoint at 3 then had one holder, the one at 2 had h <= 2 at only
    /// two, and with vp3 down no NEW-VIEW could be built in any view).
    func recordAnnouncedExecution() {
        guard lastExecuted > executedRecorded else { return }
        executedRecorded = lastExecuted
        persist(PBFTPersistence.executedKey, Array("\(lastExecuted) \(lastExecutedID)".utf8))
        if lastExecuted >= lowWatermark, checkpoints.own[lastExecuted] == nil {
            checkpoints.recordAnnounced(sequence: lastExecuted, id: lastExecutedID)
            persist(PBFTPersistence.announcedKey(lastExecuted), Array(lastExecutedID.utf8))
        }
    }

    func persistInstalled() { persist(PBFTPersistence.installedKey, Array("\(installedView)".utf8)) }

    static func decimal(_ bytes: [UInt8]?) -> UInt64? { bytes.flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } }

    /// P: what prepared here (the log's certificates merged into the carried set).
    func persistPSet() {
        let p = computePSet()
        persist(PBFTPersistence.psetKey, PBFTPersistence.encode(p.keys.sorted().map { p[$0]! }))
    }

    func persistQSet() {
        let q = computeQSet()
        persist(PBFTPersistence.qsetKey, PBFTPersistence.encode(q.keys.sorted().map { q[$0]! }))
    }

    func persistBatch(_ batch: Pbft_request_batch, digest: String) {
        persist(PBFTPersistence.batchKey(digest), PBFTEncoding.bytes(batch))
    }

    /// Rebuilds from stored records: P and Q sets, batches above h, own checkpoints,
    /// the view; and, for the current view, the certificates this replica had
    /// pre-prepared, prepared or committed, so it never sends a conflicting message
    /// there. As primary it never reuses a sequence number it assigned in the view.
    func restore(_ records: [String: [UInt8]]) {
        restoreAnnouncedExecution(records)
        if let v = Self.decimal(records[PBFTPersistence.viewKey]), v > view {
            enterView(v)
        }
        // Stores written before the "installed" record existed: the view counts as installed.
        installedView = min(view, Self.decimal(records[PBFTPersistence.installedKey]) ?? view)
        // h: the last stable checkpoint (stores without the record: the ledger's last
        // sequence number, as before). P, Q and own checkpoints above it are kept, even
        // at or below lastExecuted.
        if let stable = PBFTPersistence.decodeStable(records[PBFTPersistence.stableKey]) {
            restoreLowWatermark(stable.sequence)
            if stable.sequence <= lastExecuted, stable.sequence == 0 || !stable.id.isEmpty,
               checkpoints.own[stable.sequence] == nil {
                checkpoints.recordOwn(sequence: stable.sequence, id: stable.id)
            }
            stableRecorded = true
        }
        let h = lowWatermark
        for e in PBFTPersistence.decodePQ(records[PBFTPersistence.psetKey]) where e.sequenceNumber > h {
            if let old = pset[e.sequenceNumber], old.view >= e.view { continue }
            pset[e.sequenceNumber] = e
        }
        let q = PBFTPersistence.decodePQ(records[PBFTPersistence.qsetKey]).filter { $0.sequenceNumber > h }
        for e in q {
            let k = QKey(sequence: e.sequenceNumber, digest: e.batchDigest)
            if let old = qset[k], old.view >= e.view { continue }
            qset[k] = e
        }
        for key in records.keys.sorted() where key.hasPrefix("chkpt.") {
            if let n = UInt64(key.dropFirst("chkpt.".count)), n >= h, let value = records[key] {
                checkpoints.recordOwn(sequence: n, id: String(decoding: value, as: UTF8.self))
            }
        }
        for key in records.keys.sorted() where key.hasPrefix("announced.") {
            if let n = UInt64(key.dropFirst("announced.".count)), n >= h, let value = records[key] {
                checkpoints.recordAnnounced(sequence: n, id: String(decoding: value, as: UTF8.self))
            }
        }
        // Batches the Q set refers to, above h.
        for e in q.sorted(by: { ($0.sequenceNumber, $0.batchDigest) < ($1.sequenceNumber, $1.batchDigest) }) where !e.batchDigest.isEmpty {
            guard let bytes = records[PBFTPersistence.batchKey(e.batchDigest)],
                  let batch = try? Pbft_request_batch(serializedBytes: bytes),
                  PBFTDigest.of(batch) == e.batchDigest else { continue }
            log.storeBatch(batch, digest: e.batchDigest, sequence: e.sequenceNumber)
        }
        // The current view's certificates.
        let leader = primary(of: view)
        for e in q where e.view == view {
            var pp = Pbft_pre_prepare()
            pp.view = view
            pp.sequenceNumber = e.sequenceNumber
            pp.batchDigest = e.batchDigest
            if let batch = log.batch(e.batchDigest) { pp.requestBatch = batch }
            pp.replicaID = leader
            let prepared = pset[e.sequenceNumber].map { $0.view == view && $0.batchDigest == e.batchDigest } ?? false
            log.update(view: view, sequence: e.sequenceNumber) {
                $0.prePrepare = pp
                if leader != id {
                    $0.sentPrepare = true
                    $0.prepares[id] = e.batchDigest
                }
                if prepared {
                    $0.sentCommit = true
                    $0.commits[id] = e.batchDigest
                }
            }
            if leader == id { seqNo = max(seqNo, e.sequenceNumber) }
        }
        if view > installedView {
            resumeViewChange(records)
        } else if let vc = records[PBFTPersistence.viewChangeKey].flatMap({ try? Pbft_view_change(serializedBytes: $0) }),
                  vc.view == view, vc.replicaID == id {
            viewChanges[view, default: [:]][id] = vc  // for replicas that ask (or reconnect) later
        }
        restoreOwnNewView(records)
        resumeStateTransfer(to: PBFTPersistence.decodeStable(records[PBFTPersistence.stableKey]))
        restoreViewStart(records)
    }

    /// The installed view's starting checkpoint: its pre-prepares stay above it, and a transfer
    /// to it that a crash cut short is asked again (h may be below it, `startFrom`).
    func restoreViewStart(_ records: [String: [UInt8]]) {
        guard let start = PBFTPersistence.decodeViewStart(records[PBFTPersistence.viewStartKey]),
              start.view == view, start.view == installedView, start.sequence > lowWatermark else { return }
        viewStart = start
        seqNo = max(seqNo, start.sequence)
        if start.sequence <= lastExecuted || start.id.isEmpty { return }
        requestStateTransfer(sequence: start.sequence, id: start.id,
                             replicas: (0..<UInt64(options.n)).filter { $0 != id }, movesH: false)
    }

    /// Null requests executed after the ledger's last block and announced: executed here.
    /// Only when the recorded id is the ledger's own (the same state: nothing executed since
    /// but null requests); a ledger that lost blocks to a power loss, or has more, decides.
    func restoreAnnouncedExecution(_ records: [String: [UInt8]]) {
        guard let announced = PBFTPersistence.decodeStable(records[PBFTPersistence.executedKey]),
              announced.sequence > lastExecuted, !announced.id.isEmpty, announced.id == lastExecutedID else { return }
        skipExecuted(to: announced.sequence)
        lastDispatched = max(lastDispatched, announced.sequence)
        seqNo = max(seqNo, announced.sequence)
        lastAnnounced = announced.sequence
        executedRecorded = announced.sequence
    }

    /// Stopped during a state transfer: h was moved to a checkpoint this replica had not
    /// executed yet. Ask for it again: without it the replica holds h with neither the state
    /// nor a C-set entry at h, and a NEW-VIEW may need its checkpoint (whole-host seed 367:
    /// every view change failed for want of f+1 view-changes holding one checkpoint).
    func resumeStateTransfer(to stable: (sequence: UInt64, id: String)?) {
        guard let stable, stable.sequence > lastExecuted, !stable.id.isEmpty else { return }
        requestStateTransfer(sequence: stable.sequence, id: stable.id,
                             replicas: (0..<UInt64(options.n)).filter { $0 != id })
    }

    /// The NEW-VIEW this replica sent as primary of the stored view: kept (to answer
    /// lagging replicas) and, while the view is not installed here (a crash between
    /// sending it and installing it), sent again as it was and installed.
    func restoreOwnNewView(_ records: [String: [UInt8]]) {
        guard let bytes = records[PBFTPersistence.newViewKey], let nv = try? Pbft_new_view(serializedBytes: bytes),
              nv.view == view, nv.replicaID == id, isPrimary else { return }
        newViews[view] = nv
        // Its xset is this primary's PRE-PREPAREs in the view, whatever the restored Q set holds
        // (whole-host seed 4932, on a draft that logged re-proposals above h + L only later: vp1,
        // restarted in view 5, gave 131, re-proposed in its NEW-VIEW, to a new batch).
        seqNo = max(seqNo, nv.xset.keys.max() ?? 0)
        guard !activeView else { return }
        broadcast(.newView(nv))
        processNewView()
    }

    /// Restarted during a view change (the stored view was never installed here): not
    /// active in it. Resend the VIEW-CHANGE sent before the crash (recomputed if it was
    /// not stored). The new-view timer starts as in a running view change, once f+1
    /// VIEW-CHANGEs for the view are held (`receiveViewChange`), not at once: the others
    /// may still be working in a lower view, and a timer started alone would take this
    /// replica further ahead of them on its own, a view each expiry, while they climb
    /// after it with doubling timeouts (whole-host seed 640: booted in view 8 against the
    /// others' 4, it left for 9 alone and the others needed 24 s to reach it).
    func resumeViewChange(_ records: [String: [UInt8]]) {
        activeView = false
        nullRequestDeadline = nil
        batchTimerStart = nil
        log.dropViews(before: view)
        var vc = records[PBFTPersistence.viewChangeKey].flatMap { try? Pbft_view_change(serializedBytes: $0) } ?? Pbft_view_change()
        if vc.view != view || vc.replicaID != id {
            pset = computePSet()
            qset = computeQSet()
            vc = ownViewChange()
        }
        viewChanges[view, default: [:]][id] = vc
        broadcast(.viewChange(vc))
        viewChangeResendDeadline = now + UInt64(options.resendViewChangeTicks)
    }
}
