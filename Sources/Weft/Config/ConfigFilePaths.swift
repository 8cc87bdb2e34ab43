import Foundation

/// Relative file paths in a core.yaml are taken from the folder of that file,
/// as Fabric takes them from the config directory (FABRIC_CFG_PATH), so a
/// folder holding core.yaml, its certificates and its data directory can be
/// moved as a whole. Values from `CORE_*` variables and flags stay as given
/// (relative to the working directory, as any command-line path).
///
/// A path key is `peer.fileSystemPath` or any key whose last part is `file`
/// (one path) or `files` (a comma list of paths).
public enum ConfigFilePaths {
    public static func isPathKey(_ key: String) -> Bool {
        key == "peer.fileSystemPath" || key.hasSuffix(".file") || key.hasSuffix(".files")
    }

    /// `value` with each relative path made absolute against `folder` (itself
    /// made absolute against the working directory); other keys unchanged.
    public static func resolve(_ key: String, _ value: String, againstFolderOf file: String) -> String {
        guard isPathKey(key) else { return value }
        let folder = absolute((file as NSString).deletingLastPathComponent)
        let parts = key.hasSuffix(".files") ? value.split(separator: ",").map(String.init) : [value]
        return parts.map { part in
            let path = part.trimmingCharacters(in: .whitespaces)
            guard !path.isEmpty, !path.hasPrefix("/") else { return path }
            return URL(fileURLWithPath: folder).appendingPathComponent(path).standardized.path   // `.` and `..` out, links kept
        }.joined(separator: ",")
    }

    private static func absolute(_ folder: String) -> String {
        if folder.hasPrefix("/") { return folder }
        let cwd = FileManager.default.currentDirectoryPath
        return folder.isEmpty ? cwd : (cwd as NSString).appendingPathComponent(folder)
    }
}
