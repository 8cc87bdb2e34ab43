// libFuzzer target: the frame decoder and the hello checks, on arbitrary bytes.
// Built and run by scripts/dev/fuzz.sh (swiftc -sanitize=fuzzer,address).
//
// Properties checked (a violation crashes, which libFuzzer reports):
// - splitting the input at any point gives the same frames as reading it whole;
// - WireScan accepts exactly the bodies swift-protobuf decodes as a Message,
//   and reads the same type and payload;
// - the hello checks never crash and accept only what the rules allow.
import Weft

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let maxFrame = 1 << 16
    let whole = frames(in: [input], maxFrame: maxFrame)
    let cut = size > 0 ? Int(input[0]) % (size + 1) : 0
    let split = frames(in: [UnsafeRawBufferPointer(rebasing: input[..<cut]), UnsafeRawBufferPointer(rebasing: input[cut...])], maxFrame: maxFrame)
    precondition(whole == split, "splitting changed the frames")
    for body in whole.bodies {
        body.withUnsafeBytes { raw in
            let scanned = WireScan.message(raw)
            let decoded = try? Protos_Message(serializedBytes: body)
            precondition((scanned == nil) == (decoded == nil), "WireScan and swift-protobuf disagree on validity")
            if let scanned, let decoded {
                precondition(scanned.type == decoded.type, "type differs")
                precondition(Array(raw[scanned.payloadOffset..<(scanned.payloadOffset + scanned.payloadCount)]) == Array(decoded.payload), "payload differs")
                if case .success(let endpoint) = HelloCheck.validate(UnsafeRawBufferPointer(rebasing: raw[scanned.payloadOffset..<(scanned.payloadOffset + scanned.payloadCount)])) {
                    precondition(!endpoint.id.name.isEmpty && endpoint.id.name.utf8.count <= 256 && HostPort(endpoint.address) != nil)
                }
            }
        }
    }
    _ = HelloCheck.validate(input)
    return 0
}

struct Frames: Equatable {
    var bodies: [[UInt8]] = []
    var tooLarge = false
}

func frames(in chunks: [UnsafeRawBufferPointer], maxFrame: Int) -> Frames {
    var reader = FrameReader()
    var out = Frames()
    for chunk in chunks {
        reader.append(chunk)
        var used = 0
        let bytes = reader.readable
        loop: while true {
            switch FrameCursor.next(in: bytes, at: used, maxFrameSize: maxFrame) {
            case .incomplete: break loop
            case .tooLarge: out.tooLarge = true; return out
            case .frame(let offset, let count):
                out.bodies.append(Array(bytes[(offset + 4)..<(offset + 4 + count)]))
                used = offset + 4 + count
            }
        }
        reader.consume(used)
    }
    return out
}
