import Foundation
import XCTest

/// A validator under load keeps to two malloc arenas (`MallocArenas`): the
/// main heap plus at most one more, counted in its /proc/PID/maps, where glibc
/// would otherwise give its busy threads (reactor, fan, records, ledger) one each.
final class MallocArenaCountTests: XCTestCase {
    /// glibc's HEAP_MAX_SIZE on 64-bit: every arena but the main one lives in
    /// heaps mapped at a multiple of it.
    private let heapAlignment: UInt64 = 64 << 20

    /// The read-write anonymous mappings of `pid` that start a glibc arena heap.
    private func arenaHeaps(_ pid: Int32) throws -> [String] {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        return maps.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, fields[1].hasPrefix("rw"), fields[4] == "0",
                  let start = UInt64(fields[0].prefix { $0 != "-" }, radix: 16) else { return false }
            return start % heapAlignment == 0
        }.map(String.init)
    }

    func testAValidatorUnderLoadKeepsToTwoArenas() throws {
        let peer = try PeerProcess(name: "vp0", settings: ["pbft.general.N": "1", "pbft.general.f": "0", "pbft.general.batchsize": "50"],
                                   consensus: "pbft")
        defer { _ = try? peer.terminate() }
        let load = try runWeft(["load", "--mode", "tx", "--target", peer.listen.description, "-c", "8", "-w", "32",
                                "-d", "2", "--warmup", "0", "--quiet", "--json"])
        XCTAssertEqual(load.status, 0, load.output)
        XCTAssertGreaterThan(try peer.metric("weft_chain_height"), 0, "the load committed nothing")
        let heaps = try arenaHeaps(peer.process.processIdentifier)
        XCTAssertLessThanOrEqual(heaps.count, 1, "arena heaps besides the main one:\n\(heaps.joined(separator: "\n"))")
    }
}
