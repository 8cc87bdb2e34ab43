import XCTest
@testable import Weft

/// CRC-32C: the check values of RFC 3720 (iSCSI) appendix B.4, and agreement with a
/// bit-at-a-time reference at every length and alignment (the hardware path reads 8
/// bytes at a time and finishes byte by byte).
final class CRC32CTests: XCTestCase {
    private func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    func testRFC3720CheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    func testEveryLengthAndAlignmentAgreesWithTheReference() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<8 {
            for length in 0...(data.count - start) where length < 70 || length % 37 == 0 {
                let slice = Array(data[start..<(start + length)])
                XCTAssertEqual(CRC32C.checksum(slice), reference(slice), "start \(start) length \(length)")
            }
        }
    }

    /// The instruction is in use exactly where the CPU has it.
    func testTheHardwareInstructionIsUsedWhereTheCPUHasIt() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        #if arch(x86_64)
        XCTAssertEqual(CRC32C.usesHardware, cpuinfo.contains(" sse4_2"))
        #else
        XCTAssertFalse(CRC32C.usesHardware)
        #endif
    }
}
