/// The pure rules of the view change (Castro and Liskov, section 4.4; as
/// Fabric v0.6's viewchange.go applied them): which VIEW-CHANGE is well
/// formed, which checkpoint a NEW-VIEW starts from, and which digest each
/// sequence number gets. The new primary computes them, every backup
/// recomputes them from the NEW-VIEW's vset and refuses a mismatch.
enum ViewChangeRules {
    /// P and Q entries are from earlier views and inside (h, h+L]; checkpoints inside [h, h+L].
    static func isWellFormed(_ vc: Pbft_view_change, logSize: UInt64) -> Bool {
        for p in vc.pset + vc.qset {
            guard p.view < vc.view, p.sequenceNumber > vc.h, p.sequenceNumber <= vc.h + logSize else { return false }
        }
        for c in vc.cset {
            guard c.sequenceNumber >= vc.h, c.sequenceNumber <= vc.h + logSize else { return false }
        }
        return true
    }

    struct InitialCheckpoint: Equatable {
        let sequence: UInt64
        let id: String
        /// The replicas whose C sets hold it (sorted): state transfer sources.
        let replicas: [UInt64]
    }

    /// The highest checkpoint that f+1 view-changes hold (a weak certificate, so
    /// one correct replica reached it) and that at least `quorum` of them have
    /// h at or below (so it is not ahead of what they can prove). Ties on the
    /// sequence number go to the smaller id, so every replica picks the same.
    static func initialCheckpoint(_ vset: [Pbft_view_change], f: Int, quorum: Int) -> InitialCheckpoint? {
        var holders: [String: [UInt64]] = [:]  // "seq id" -> replicas; walked only through sorted keys
        var entries: [(UInt64, String)] = []
        for vc in vset {
            for c in vc.cset {
                let key = "\(c.sequenceNumber) \(c.id)"
                if holders[key] == nil { entries.append((c.sequenceNumber, c.id)) }
                if holders[key]?.contains(vc.replicaID) != true { holders[key, default: []].append(vc.replicaID) }
            }
        }
        entries.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        for (n, id) in entries {
            let replicas = holders["\(n) \(id)"]!
            guard replicas.count > f else { continue }
            guard vset.filter({ $0.h <= n }).count >= quorum else { continue }
            return InitialCheckpoint(sequence: n, id: id, replicas: replicas.sorted())
        }
        return nil
    }

    /// For each n in (h, h+L]: the digest d of some <n, d, v> in a P set such that
    /// (A1) `quorum` view-changes have h < n and no P entry for n in a later view or
    /// the same view with another digest, and (A2) f+1 have <n, d, v' >= v> in Q;
    /// else null ("") if `quorum` view-changes have h < n and no P entry for n; else nil (no
    /// NEW-VIEW possible yet). Null entries above the last assigned digest are dropped.
    static func assignSequenceNumbers(_ vset: [Pbft_view_change], h: UInt64, logSize: UInt64,
                                      f: Int, quorum: Int) -> [UInt64: String]? {
        var xset: [UInt64: String] = [:]
        var maxN = h + 1
        var n = h + 1
        nLoop: while n <= h + logSize {
            defer { n += 1 }
            for m in vset {
                for em in m.pset where em.sequenceNumber == n {
                    var a1 = 0
                    mpLoop: for mp in vset where mp.h < n {
                        for emp in mp.pset where emp.sequenceNumber == n {
                            if !(emp.view < em.view || (emp.view == em.view && emp.batchDigest == em.batchDigest)) {
                                continue mpLoop
                            }
                        }
                        a1 += 1
                    }
                    guard a1 >= quorum else { continue }
                    var a2 = 0
                    for mp in vset where mp.qset.contains(where: {
                        $0.sequenceNumber == n && $0.view >= em.view && $0.batchDigest == em.batchDigest
                    }) {
                        _ = mp
                        a2 += 1
                    }
                    guard a2 >= f + 1 else { continue }
                    xset[n] = em.batchDigest
                    maxN = n
                    continue nLoop
                }
            }
            // Castro and Liskov's "m.h < n" (Fabric lacks it): a VIEW-CHANGE at or above n has
            // no P entry for n because it collected it, which says nothing about what prepared.
            let withoutEntry = vset.filter { $0.h < n && !$0.pset.contains { $0.sequenceNumber == n } }.count
            if withoutEntry >= quorum {
                xset[n] = ""
                continue nLoop
            }
            return nil
        }
        return xset.filter { $0.key <= maxN || !$0.value.isEmpty }
    }
}
