import Foundation

/// A block as JSON, in the shape of Fabric v0.6's REST API (Go's encoding/json
/// of `protos.Block`: bytes as base64, timestamps as `{"seconds", "nanos"}`,
/// the transaction type as its number, empty fields left out), plus the
/// block's `number` and `hash` (base64 SHA-256 of its encoded bytes).
/// `weft ledger show --json` and `export` print it.
public enum BlockJSON {
    public static func object(number: UInt64, bytes: [UInt8], block: Protos_Block) -> [String: Any] {
        var object: [String: Any] = [
            "number": number,
            "hash": Data(SHA256.hash(bytes)).base64EncodedString(),
            "transactions": block.transactions.map(transaction),
        ]
        if block.version != 0 { object["version"] = block.version }
        if block.hasTimestamp { object["timestamp"] = timestamp(block.timestamp.seconds, block.timestamp.nanos) }
        if !block.previousBlockHash.isEmpty { object["previousBlockHash"] = block.previousBlockHash.base64EncodedString() }
        if !block.stateHash.isEmpty { object["stateHash"] = block.stateHash.base64EncodedString() }
        if !block.consensusMetadata.isEmpty { object["consensusMetadata"] = block.consensusMetadata.base64EncodedString() }
        return object
    }

    public static func transaction(_ tx: Protos_Transaction) -> [String: Any] {
        var object: [String: Any] = ["txid": tx.txid, "type": tx.type.rawValue]
        if !tx.chaincodeID.isEmpty { object["chaincodeID"] = tx.chaincodeID.base64EncodedString() }
        if !tx.payload.isEmpty { object["payload"] = tx.payload.base64EncodedString() }
        if !tx.metadata.isEmpty { object["metadata"] = tx.metadata.base64EncodedString() }
        if tx.hasTimestamp { object["timestamp"] = timestamp(tx.timestamp.seconds, tx.timestamp.nanos) }
        return object
    }

    /// One line of JSON (keys sorted), no newline.
    public static func line(_ object: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func timestamp(_ seconds: Int64, _ nanos: Int32) -> [String: Any] {
        ["seconds": seconds, "nanos": nanos]
    }
}
