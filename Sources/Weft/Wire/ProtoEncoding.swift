import SwiftProtobuf

enum ProtoEncoding {
    static func varintSize(_ v: UInt64) -> Int {
        var n = 1
        var v = v
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    static func putVarint(_ v: UInt64, into out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var v = v
        var at = start
        while v >= 0x80 {
            out[at] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            at += 1
        }
        out[at] = UInt8(v)
        return at + 1
    }
}
