import Foundation
import Logging
import Glibc
import Synchronization

/// swift-log handler for both formats; the level is `WeftLogging.level`.
public struct WeftLogHandler: LogHandler {
    public let label: String
    public let format: LogFormat
    let stream: LogStream
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, format: LogFormat, stream: LogStream = .standardError) {
        self.label = label
        self.format = format
        self.stream = stream
    }

    /// Shared by every handler: setting it on one logger sets it for the process.
    public var logLevel: Logger.Level {
        get { WeftLogging.level }
        set { WeftLogging.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error { fields["error"] = "\(error)" }
        write(level: event.level, message: event.message, fields: fields, source: event.source)
    }

    func write(level: Logger.Level, message: Logger.Message, fields: Logger.Metadata, source: String) {
        let now = Date()
        switch format {
        case .text:
            let pairs = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            stream.write("\(WeftLogHandler.timestamp(now)) \(level) \(label) :\(pairs.isEmpty ? "" : " " + pairs) [\(source)] \(message)\n")
        case .json:
            var object: [String: Any] = [:]
            for (key, value) in fields { object[key] = WeftLogHandler.json(value) }
            object["time"] = WeftLogHandler.isoTimestamp(now)
            object["level"] = level.rawValue
            object["logger"] = label
            object["message"] = message.description
            object["source"] = source
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            stream.write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let list): return list.map(json)
        case .dictionary(let map): return map.mapValues(json)
        }
    }

    /// Local time with milliseconds, `2026-12-05T07:01:02.345+0000` (swift-log's
    /// StreamLogHandler form plus the milliseconds that order a busy second's events).
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func format(_ pattern: String) -> String {
            var buffer = [Int8](repeating: 0, count: 64)
            let n = strftime(&buffer, buffer.count, pattern, &parts)
            return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return format("%Y-%m-%dT%H:%M:%S") + String(format: ".%03d", Int(millis % 1000)) + format("%z")
    }

    /// UTC with milliseconds (RFC 3339), for JSON lines.
    static func isoTimestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let base = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return base + String(format: ".%03dZ", Int(millis % 1000))
    }
}
