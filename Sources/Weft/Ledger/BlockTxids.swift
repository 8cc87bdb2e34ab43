/// The txids of an encoded `protos.Block`, read without decoding the rest
/// (payloads are skipped, never copied): what the txid index and the
/// start-up window need of each block.
enum BlockTxids {
    /// `protos.Block.transactions`, `protos.Transaction.txid` (fabric.proto).
    static let transactionsField: UInt64 = 3
    static let txidField: UInt64 = 5

    /// In block order; nil when the bytes are not well-formed protobuf.
    static func of(_ bytes: [UInt8]) -> [String]? {
        bytes.withUnsafeBytes { body -> [String]? in
            var reader = WireScan.Reader(body)
            var txids: [String] = []
            while !reader.atEnd {
                guard let (field, wire) = reader.key() else { return nil }
                if field == transactionsField && wire == .lengthDelimited {
                    guard let range = reader.lengthDelimited(), let txid = txid(UnsafeRawBufferPointer(rebasing: body[range])) else { return nil }
                    txids.append(txid)
                } else if !reader.skip(wire, field: field) {
                    return nil
                }
            }
            return txids
        }
    }

    /// A transaction's txid (proto3: the last one wins; "" when absent).
    private static func txid(_ transaction: UnsafeRawBufferPointer) -> String? {
        var reader = WireScan.Reader(transaction)
        var txid = ""
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            if field == txidField && wire == .lengthDelimited {
                guard let range = reader.lengthDelimited() else { return nil }
                txid = String(decoding: UnsafeRawBufferPointer(rebasing: transaction[range]), as: UTF8.self)
            } else if !reader.skip(wire, field: field) {
                return nil
            }
        }
        return txid
    }
}
