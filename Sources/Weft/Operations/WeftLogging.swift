import Foundation
import Logging
import Glibc
import Synchronization

/// The peer's log output: the level, changeable at run time (`PUT /logspec`),
/// and the format. `bootstrap` installs it as swift-log's handler; an embedder
/// with a logging system of its own may leave it alone (then /logspec changes
/// only what `WeftLogging.level` reports).
public enum WeftLogging {
    private static let current = Atomic<UInt8>(WeftLogging.code(.info))

    /// The level every handler of `bootstrap` filters at, now.
    public static var level: Logger.Level {
        get { Logger.Level.allCases[Int(current.load(ordering: .relaxed))] }
        set { current.store(code(newValue), ordering: .relaxed) }
    }

    static func code(_ level: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: level)!) }

    /// Installs the handler for the whole process (once, at start).
    public static func bootstrap(format: LogFormat, level: Logger.Level, stream: LogStream = .standardError) {
        self.level = level
        LoggingSystem.bootstrap { label in WeftLogHandler(label: label, format: format, stream: stream) }
    }
}
