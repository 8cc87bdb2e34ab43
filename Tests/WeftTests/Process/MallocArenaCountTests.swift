import Foundation
import XCTest

/// A validator under load keeps to two malloc arenas (`MallocArenas`): the
/// main heap plus at most one more, counted in its /proc/PID/maps, where glibc
/// would otherwise give its busy threads (reactor, fan, records, ledger) one each.
final class MallocArenaCountTests: XCTestCase {
    /// glibc's HEAP_MAX_SIZE on 64-bit: every arena but the main one lives in
    /// heaps mapped at a multiple of it.
    private let heapAlignment: UInt64 = 64 << 20

    /// The read-write anonymous mappings of `pid` that start a glibc arena heap, with their start.
    private func arenaHeaps(_ pid: Int32) throws -> [(line: String, start: UInt64)] {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        return maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, fields[1].hasPrefix("rw"), fields[4] == "0",
                  let start = UInt64(fields[0].prefix { $0 != "-" }, radix: 16), start % heapAlignment == 0 else { return nil }
            return (String(line), start)
        }
    }

    /// The arenas those heaps belong to: a heap starts with glibc's `heap_info`, whose first
    /// word is its arena (`ar_ptr`). One arena that outgrew a heap owns several (seen once:
    /// two heaps of 5 and 8 MiB after a 2 s load); a mapping whose first word is 0 is no heap.
    /// Nil when the process's memory cannot be read: then every heap counts as an arena.
    private func arenas(of heaps: [(line: String, start: UInt64)], pid: Int32) -> Set<UInt64>? {
        guard let mem = FileHandle(forReadingAtPath: "/proc/\(pid)/mem") else { return nil }
        defer { try? mem.close() }
        var owners = Set<UInt64>()
        for heap in heaps {
            guard (try? mem.seek(toOffset: heap.start)) != nil, let word = try? mem.read(upToCount: 8), word.count == 8 else { return nil }
            let arena = word.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if arena != 0 { owners.insert(arena) }
        }
        return owners
    }

    func testAValidatorUnderLoadKeepsToTwoArenas() throws {
        let peer = try PeerProcess(name: "vp0", settings: ["pbft.general.N": "1", "pbft.general.f": "0", "pbft.general.batchsize": "50"],
                                   consensus: "pbft")
        defer { _ = try? peer.terminate() }
        let load = try runWeft(["load", "--mode", "tx", "--target", peer.listen.description, "-c", "8", "-w", "32",
                                "-d", "2", "--warmup", "0", "--quiet", "--json"])
        XCTAssertEqual(load.status, 0, load.output)
        XCTAssertGreaterThan(try peer.metric("weft_chain_height"), 0, "the load committed nothing")
        let pid = peer.process.processIdentifier
        let heaps = try arenaHeaps(pid)
        let count = arenas(of: heaps, pid: pid)?.count ?? heaps.count
        XCTAssertLessThanOrEqual(count, 1, "arenas besides the main one, from these heaps:\n\(heaps.map(\.line).joined(separator: "\n"))")
    }
}
