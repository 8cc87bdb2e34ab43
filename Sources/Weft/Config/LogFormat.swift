import Foundation
import Logging
import Glibc
import Synchronization

/// `logging.format`: how each event is written to stderr.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    /// One line per event: `time level logger : key=value … [source] message`.
    case text
    /// One JSON object per line: `time`, `level`, `logger`, `message`, then the event's fields.
    case json
}
