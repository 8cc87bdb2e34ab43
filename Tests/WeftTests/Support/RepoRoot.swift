import Foundation

/// The checkout's root (the folder with Package.swift), found from this file
/// upward, so a test may live at any depth under Tests/.
enum RepoRoot {
    static let url: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }()
}
