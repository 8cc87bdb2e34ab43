import Foundation
import SwiftProtobuf

/// Ledger objects as Fabric v0.6's REST API rendered them (Go's encoding/json
/// of the protobuf structs): field names as in fabric.proto, bytes in base64,
/// timestamps as `{"seconds", "nanos"}`, enums as their numbers.
enum LedgerJSON {
    static func chainInfo(_ info: ChainInfo) -> [String: Any] {
        ["height": info.height,
         "currentBlockHash": Data(info.currentBlockHash).base64EncodedString(),
         "previousBlockHash": Data(info.previousBlockHash).base64EncodedString()]
    }

    static func block(_ block: Protos_Block) -> [String: Any] {
        var out: [String: Any] = [
            "version": block.version,
            "transactions": block.transactions.map(transaction),
            "previousBlockHash": Data(block.previousBlockHash).base64EncodedString(),
        ]
        if block.hasTimestamp { out["timestamp"] = timestamp(block.timestamp) }
        if !block.stateHash.isEmpty { out["stateHash"] = block.stateHash.base64EncodedString() }
        if !block.consensusMetadata.isEmpty { out["consensusMetadata"] = block.consensusMetadata.base64EncodedString() }
        return out
    }

    static func transaction(_ tx: Protos_Transaction) -> [String: Any] {
        var out: [String: Any] = [
            "type": tx.type.rawValue,
            "txid": tx.txid,
            "payload": tx.payload.base64EncodedString(),
        ]
        if !tx.chaincodeID.isEmpty { out["chaincodeID"] = tx.chaincodeID.base64EncodedString() }
        if !tx.metadata.isEmpty { out["metadata"] = tx.metadata.base64EncodedString() }
        if tx.hasTimestamp { out["timestamp"] = timestamp(tx.timestamp) }
        return out
    }

    static func timestamp(_ t: Google_Protobuf_Timestamp) -> [String: Any] {
        ["seconds": t.seconds, "nanos": t.nanos]
    }
}
