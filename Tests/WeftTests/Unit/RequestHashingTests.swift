import XCTest
@testable import Weft

/// The hashes `Set` and `Dictionary` use for request keys and txid digests
/// (issue 24: one-word SipHash instead of a streamed `Hasher`): equal values
/// hash alike, and values that differ in any one field do not collide.
final class RequestHashingTests: XCTestCase {
    private let seed = 0x5EED_1234

    private func keys() -> [RequestKey] {
        var keys: [RequestKey] = []
        for replica in UInt64(0)..<4 {
            for second in Int64(0)..<50 {
                for nanos in [0, 1, 999_999_999, 500_000_000] as [Int32] {
                    keys.append(RequestKey(replica: replica, seconds: 1_764_900_000 + second, nanos: nanos))
                }
            }
        }
        keys.append(RequestKey(replica: 1 << 40, seconds: -1, nanos: -1))
        return keys
    }

    func testEqualRequestKeysHashAlikeAndDistinctOnesDoNot() {
        let all = keys()
        let hashes = all.map { $0._rawHashValue(seed: seed) }
        XCTAssertEqual(Set(hashes).count, all.count, "no two of \(all.count) distinct keys share a hash")
        for key in all {
            let copy = RequestKey(replica: key.replica, seconds: key.seconds, nanos: key.nanos)
            XCTAssertEqual(copy._rawHashValue(seed: seed), key._rawHashValue(seed: seed))
            XCTAssertEqual(copy.hashValue, key.hashValue)
        }
        XCTAssertNotEqual(all[0]._rawHashValue(seed: seed), all[0]._rawHashValue(seed: seed + 1), "the seed keys the hash")
    }

    func testADictionaryOfRequestKeysFindsEachAndOnlyEach() {
        let all = keys()
        var index: [RequestKey: Int] = [:]
        for (i, key) in all.enumerated() { index[key] = i }
        XCTAssertEqual(index.count, all.count)
        for (i, key) in all.enumerated() { XCTAssertEqual(index[key], i) }
        XCTAssertNil(index[RequestKey(replica: 4, seconds: 1_764_900_000, nanos: 0)])
        XCTAssertEqual(Set(all).count, all.count)
    }

    func testTxidDigestsHashByTheirDigestAndASetHoldsEachOnce() {
        let txids = (0..<2000).map { "tx-\($0)" }
        let digests = txids.map(TxidDigest.init)
        XCTAssertEqual(Set(digests.map { $0._rawHashValue(seed: seed) }).count, txids.count)
        XCTAssertEqual(TxidDigest("tx-7")._rawHashValue(seed: seed), digests[7]._rawHashValue(seed: seed))
        var window = TxidWindow(capacity: 1500, chainOrder: txids)
        XCTAssertEqual(window.count, 1500)
        XCTAssertFalse(window.contains("tx-499"), "pushed out of the window")
        XCTAssertTrue(window.contains("tx-500"))
        XCTAssertTrue(window.contains("tx-1999"))
        window.append("tx-2000")
        XCTAssertFalse(window.contains("tx-500"))
        XCTAssertTrue(window.contains(TxidDigest("tx-2000")))
    }
}
