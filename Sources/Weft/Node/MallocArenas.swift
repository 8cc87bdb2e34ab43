import CWeftLinux

/// How many malloc arenas a peer lets glibc make. glibc gives a thread that
/// finds the arenas busy one of its own, up to 8 per core, and each keeps the
/// memory freed into it: a validator's dozen threads (reactor, fan, records,
/// ledger, libdispatch's workers) hand requests, batches and blocks across
/// threads and leave every arena holding tens of MiB of free chunks. Two
/// arenas (the main heap and one more) keep that slack to two; each thread
/// still allocates small objects from its own tcache without a lock.
public enum MallocArenas {
    /// The arenas a peer asks for unless the environment already decides.
    public static let peerDefault: Int32 = 2
    /// The limit to set, or nil when the operator chose one already
    /// (`MALLOC_ARENA_MAX`, or an arena setting in `GLIBC_TUNABLES`): theirs wins.
    public static func limit(environment: [String: String]) -> Int32? {
        if environment["MALLOC_ARENA_MAX"] != nil { return nil }
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.arena_max") { return nil }
        return peerDefault
    }

    /// Sets the limit for this process; call before the peer starts its threads.
    /// Returns the limit set, nil if none was (the environment's stands).
    @discardableResult
    public static func apply(environment: [String: String]) -> Int32? {
        guard let arenas = limit(environment: environment) else { return nil }
        return cweft_malloc_arena_max(arenas) == 1 ? arenas : nil
    }
}
