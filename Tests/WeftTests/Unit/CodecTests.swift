import Foundation
import SwiftProtobuf
import Weft
import XCTest

final class CodecTests: XCTestCase {
    /// Frames of assorted sizes and types, concatenated.
    private func sampleStream() -> (bytes: [UInt8], bodies: [[UInt8]]) {
        var bodies: [[UInt8]] = []
        for i in 0..<12 {
            var m = Protos_Message()
            m.type = i % 3 == 0 ? .consensus : .chainTransaction
            m.payload = Data((0..<(i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) })
            if i == 5 { m = Protos_Message() }                       // zero-length body
            bodies.append(try! m.serializedBytes())
        }
        return (bodies.flatMap { FrameFormat.frame($0) }, bodies)
    }

    /// Feeds `chunks` through a FrameReader as the reactor does and returns the bodies.
    private func decode(chunks: [ArraySlice<UInt8>], maxFrameSize: Int = 1 << 20) throws -> [[UInt8]] {
        var reader = FrameReader()
        var out: [[UInt8]] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { reader.append($0) }
            var used = 0
            let readable = reader.readable
            loop: while true {
                switch FrameCursor.next(in: readable, at: used, maxFrameSize: maxFrameSize) {
                case .incomplete: break loop
                case .tooLarge(let n): throw TestFailure("too large: \(n)")
                case .frame(let offset, let count):
                    let body = UnsafeRawBufferPointer(rebasing: readable[(offset + 4)..<(offset + 4 + count)])
                    XCTAssertNotNil(WireScan.message(body))
                    out.append(Array(body))
                    used = offset + 4 + count
                }
            }
            reader.consume(used)
        }
        XCTAssertTrue(reader.isEmpty)
        XCTAssertEqual(reader.allocatedBytes, 0, "an empty reader holds no buffer")
        return out
    }

    func testFramesSplitAtEveryByteBoundary() throws {
        let (bytes, bodies) = sampleStream()
        for cut in 0...bytes.count {
            let decoded = try decode(chunks: [bytes[0..<cut], bytes[cut...]])
            XCTAssertEqual(decoded, bodies, "split at \(cut)")
        }
        // and one byte at a time
        XCTAssertEqual(try decode(chunks: bytes.indices.map { bytes[$0...$0] }), bodies)
    }

    func testManyFramesInOneBuffer() throws {
        let (bytes, bodies) = sampleStream()
        let many = Array(repeating: bytes, count: 50).flatMap { $0 }
        XCTAssertEqual(try decode(chunks: [many[...]]), Array(repeating: bodies, count: 50).flatMap { $0 })
    }

    func testZeroLengthFrameIsAnUndefinedMessage() throws {
        let frame: [UInt8] = [0, 0, 0, 0]
        let step = frame.withUnsafeBytes { FrameCursor.next(in: $0, at: 0, maxFrameSize: 16) }
        XCTAssertEqual(step, .frame(offset: 0, bodyCount: 0))
        let header = try XCTUnwrap(WireScan.message(UnsafeRawBufferPointer(start: nil, count: 0)))
        XCTAssertEqual(header.type, .undefined)
        XCTAssertEqual(header.payloadCount, 0)
    }

    func testLengthOverTheLimitIsRejectedFromTheHeaderAlone() {
        // Only the 4 length bytes have arrived: the verdict comes before any body
        // (and before any buffer for it is allocated).
        let header: [UInt8] = [0x7f, 0xff, 0xff, 0xff]
        var reader = FrameReader()
        header.withUnsafeBytes { reader.append($0) }
        XCTAssertEqual(FrameCursor.next(in: reader.readable, at: 0, maxFrameSize: 4 << 20), .tooLarge(0x7fff_ffff))
        XCTAssertLessThan(reader.allocatedBytes, 1 << 20, "no allocation sized by the announced length")
        let atLimit: [UInt8] = [0, 0x40, 0, 0]      // exactly 4 MiB: allowed, just incomplete
        XCTAssertEqual(atLimit.withUnsafeBytes { FrameCursor.next(in: $0, at: 0, maxFrameSize: 4 << 20) },
                       .incomplete(needed: 4 + (4 << 20)))
    }

    func testMalformedBodiesAreRejected() {
        let cases: [[UInt8]] = [
            [0x08],                         // type key, varint missing
            [0x1a, 0x05, 1, 2],             // payload shorter than its length
            [0xff, 0xff],                   // truncated key varint
            [0x0b],                         // a group that never ends
            [0x0c],                         // an end-group with no start
            [0x0b, 0x14],                   // a group ended by another field's end-group
            [0x00, 0x01],                   // field number 0
            [0x12, 0x02, 0xff, 0xff],       // timestamp whose inside is not protobuf
            Array(repeating: 0x80, count: 11) + [0x01],  // over-long varint
        ]
        for body in cases {
            XCTAssertNil(body.withUnsafeBytes { WireScan.message($0) }, "\(body) should be malformed")
            XCTAssertThrowsError(try Weft.Message(encoded: body))
        }
    }

    func testUnknownFieldsAndEnumValuesAreKept() throws {
        // type = 99 (unknown enum value), payload, and unknown fields 9 (varint) and 10 (bytes).
        let body: [UInt8] = [0x08, 99, 0x1a, 0x02, 0xaa, 0xbb, 0x48, 0x07, 0x52, 0x03, 1, 2, 3]
        let message = try Weft.Message(encoded: body)
        XCTAssertEqual(message.type, .UNRECOGNIZED(99))
        XCTAssertEqual(message.payload, [0xaa, 0xbb])
        XCTAssertEqual(message.encoded, body, "forwarded bytes are the received bytes")
        let decoded = try message.decode()
        XCTAssertEqual(try decoded.serializedBytes() as [UInt8], body, "swift-protobuf keeps them too")
    }

    func testHandEncodedMessageMatchesSwiftProtobuf() throws {
        for payload in [[], [1], Array(repeating: UInt8(7), count: 300)] as [[UInt8]] {
            var proto = Protos_Message()
            proto.type = .consensus
            proto.payload = Data(payload)
            let ours = Weft.Message(type: .consensus, payload: payload)
            XCTAssertEqual(ours.encoded, try proto.serializedBytes() as [UInt8])
            XCTAssertEqual(Array(ours.storage.frame), FrameFormat.frame(try proto.serializedBytes() as [UInt8]))
        }
    }
}
