import Foundation
import XCTest

/// Scratch directories (peers' data directories, certificates, ledgers) that a
/// test case makes: each is removed once the test case that made it finishes,
/// pass or fail. (Before, every run of the suite left about a gigabyte of them
/// in the temporary directory.) A test that keeps a directory across a restart
/// of its peer keeps it for the whole test case, so that is safe.
enum TestScratch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String] = []
    nonisolated(unsafe) private static var observing = false

    /// A new, empty directory `<temporary>/<prefix>-<8 hex>`; its path.
    static func directory(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        remember(path)
        return path
    }

    /// A path in the temporary directory that the test (or a program it runs) creates;
    /// removed with the test case like a directory.
    static func path(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        remember(path)
        return path
    }

    private static func remember(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        made.append(path)
        if !observing {
            observing = true
            XCTestObservationCenter.shared.addTestObserver(Observer())
        }
    }

    /// Removes what the finished test case made.
    fileprivate static func removeAll() {
        lock.lock()
        let paths = made
        made = []
        lock.unlock()
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    private final class Observer: NSObject, XCTestObservation {
        func testCaseDidFinish(_ testCase: XCTestCase) { TestScratch.removeAll() }
    }
}
