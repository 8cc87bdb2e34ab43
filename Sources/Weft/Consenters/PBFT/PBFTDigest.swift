import Foundation
import SwiftProtobuf

/// The digest of a request batch: base64 of the 64-byte SHAKE256 of its encoding.
enum PBFTDigest {
    static func of(_ batch: Pbft_request_batch) -> String {
        // Encoding a message without required fields cannot fail.
        let bytes: [UInt8] = (try? batch.serializedBytes()) ?? []
        return Data(SHAKE256.hash(bytes)).base64EncodedString()
    }
}
