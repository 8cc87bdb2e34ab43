import Foundation
import SwiftProtobuf

/// The digest of a request batch: base64 of the 64-byte SHAKE256 of its encoding.
enum PBFTDigest {
    static func of(_ batch: Pbft_request_batch) -> String {
        Data(SHAKE256.hash(PBFTEncoding.bytes(batch))).base64EncodedString()
    }
}
