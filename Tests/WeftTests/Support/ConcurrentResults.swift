import Foundation
import Glibc
import SwiftProtobuf
import Weft
import WeftTools
import XCTest

/// Results of concurrent work, by index.
final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Int: Result<PBFTClient.Outcome, Error>] = [:]
    func record(_ index: Int, _ result: Result<PBFTClient.Outcome, Error>) { lock.lock(); results[index] = result; lock.unlock() }
    func get(_ index: Int) throws -> PBFTClient.Outcome {
        lock.lock(); defer { lock.unlock() }
        guard let result = results[index] else { throw TestFailure("no result for \(index)") }
        return try result.get()
    }
}
