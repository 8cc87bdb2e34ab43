import Weft
import XCTest

/// A peer limits glibc's malloc arenas to two unless the operator chose a limit
/// in the environment, which wins.
final class MallocArenasTests: XCTestCase {
    func testAPeerAsksForTwoArenasByDefault() {
        XCTAssertEqual(MallocArenas.limit(environment: [:]), 2)
        XCTAssertEqual(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"]), 2)
    }

    func testTheOperatorsLimitWins() {
        XCTAssertNil(MallocArenas.limit(environment: ["MALLOC_ARENA_MAX": "8"]))
        XCTAssertNil(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1:glibc.malloc.arena_max=4"]))
    }

    /// The limit is one glibc takes (mallopt answers 1).
    func testGlibcTakesTheLimit() {
        XCTAssertEqual(MallocArenas.apply(environment: [:]), 2)
        XCTAssertNil(MallocArenas.apply(environment: ["MALLOC_ARENA_MAX": "1"]))
    }
}
