/// A block number the ledger does not (durably) hold yet.
struct LedgerRangeError: Error, CustomStringConvertible {
    let number: UInt64
    let height: UInt64
    var description: String {
        "block \(number) is past the durable height \(height) (blocks 0...\(height == 0 ? "none" : String(height - 1)) are readable)"
    }
}
