/// A structural protobuf check: every key, varint and length must be well
/// formed and inside the body. Unknown fields — and known ones whose wire type
/// is not the one `fabric.proto` gives them — are skipped, as swift-protobuf
/// skips them, and stay in the bytes, so they are forwarded unchanged. Proto3
/// semantics: the last `type` and `payload` seen win. The fuzz target
/// (Fuzz/FrameFuzz.swift) checks that this accepts exactly what swift-protobuf
/// decodes, with the same type and payload.
public enum WireScan {
    enum WireType: UInt64 { case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5 }

    /// Groups nested deeper than this are refused (swift-protobuf's recursion limit is 100).
    static let maxDepth = 100

    /// Scans an encoded `protos.Message`; nil when it is not valid protobuf.
    @inline(__always)
    public static func message(_ body: UnsafeRawBufferPointer) -> MessageHeader? {
        if let common = commonLayout(body) { return common }
        return anyLayout(body)
    }

    /// The layout nearly every message has — `type` (one byte), then `payload`
    /// and nothing else — checked in a few instructions; nil sends the body to
    /// the full scan.
    @inline(__always)
    static func commonLayout(_ body: UnsafeRawBufferPointer) -> MessageHeader? {
        let n = body.count
        guard n >= 4, let p = body.baseAddress, p.load(as: UInt8.self) == 0x08 else { return nil }
        let type = p.load(fromByteOffset: 1, as: UInt8.self)
        guard type < 0x80, p.load(fromByteOffset: 2, as: UInt8.self) == 0x1a else { return nil }
        var length = 0, shift = 0, at = 3
        while at < n, at < 8 {
            let b = p.load(fromByteOffset: at, as: UInt8.self)
            length |= Int(b & 0x7f) << shift
            at += 1
            if b < 0x80 {
                guard n - at == length else { return nil }
                return MessageHeader(rawType: Int32(type), payloadOffset: at, payloadCount: length)
            }
            shift += 7
        }
        return nil
    }

    static func anyLayout(_ body: UnsafeRawBufferPointer) -> MessageHeader? {
        var header = MessageHeader(rawType: 0, payloadOffset: 0, payloadCount: 0)
        var reader = Reader(body)
        while !reader.atEnd {
            guard let (field, wire) = reader.key(), wire != .endGroup else { return nil }
            switch (field, wire) {
            case (1, .varint):
                guard let v = reader.varint() else { return nil }
                header.rawType = Int32(truncatingIfNeeded: v)
            case (2, .lengthDelimited):          // google.protobuf.Timestamp: check its structure too
                guard let range = reader.lengthDelimited(),
                      valid(UnsafeRawBufferPointer(rebasing: body[range])) else { return nil }
            case (3, .lengthDelimited):
                guard let range = reader.lengthDelimited() else { return nil }
                header.payloadOffset = range.lowerBound
                header.payloadCount = range.count
            default:                             // unknown fields, and known ones with another wire type (as swift-protobuf does)
                guard reader.skip(wire, field: field) else { return nil }
            }
        }
        return header
    }

    /// True when `bytes` is a well-formed sequence of protobuf fields.
    public static func valid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = Reader(bytes)
        while !reader.atEnd {
            guard let (field, wire) = reader.key(), wire != .endGroup, reader.skip(wire, field: field) else { return false }
        }
        return true
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var atEnd: Bool { offset >= bytes.count }

        @inline(__always)
        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let b = bytes[offset]
                offset += 1
                value |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return value }
                shift += 7
            }
            return nil                             // truncated, or longer than 10 bytes
        }

        @inline(__always)
        mutating func key() -> (UInt64, WireType)? {
            let start = offset
            // A tag is a 32-bit varint: at most 5 bytes (swift-protobuf refuses longer ones).
            guard let k = varint(), offset - start <= 5, let wire = WireType(rawValue: k & 7) else { return nil }
            let field = k >> 3
            guard field != 0, field <= 0x1fff_ffff else { return nil }
            return (field, wire)
        }

        mutating func lengthDelimited() -> Range<Int>? {
            guard let n = varint(), n <= UInt64(bytes.count - offset) else { return nil }
            let start = offset
            offset += Int(n)
            return start..<offset
        }

        /// Skips one field's value; a group up to its matching end (nested at most `maxDepth`).
        mutating func skip(_ wire: WireType, field: UInt64, depth: Int = 0) -> Bool {
            switch wire {
            case .varint: return varint() != nil
            case .lengthDelimited: return lengthDelimited() != nil
            case .fixed64: return advance(8)
            case .fixed32: return advance(4)
            case .endGroup: return false
            case .startGroup:
                guard depth < WireScan.maxDepth else { return false }
                while let (inner, innerWire) = key() {
                    if innerWire == .endGroup { return inner == field }
                    guard skip(innerWire, field: inner, depth: depth + 1) else { return false }
                }
                return false                       // no end-group before the end
            }
        }

        private mutating func advance(_ n: Int) -> Bool {
            guard bytes.count - offset >= n else { return false }
            offset += n
            return true
        }
    }
}
