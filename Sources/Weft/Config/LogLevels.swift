import Logging

public enum LogLevels {
    /// swift-log's level for a name (Fabric's `warning` and swift-log's names).
    public static func parse(_ name: String) -> Logger.Level? {
        switch name.lowercased() {
        case "warn": return .warning
        case "fatal", "panic": return .critical
        default: return Logger.Level(rawValue: name.lowercased())
        }
    }
}
