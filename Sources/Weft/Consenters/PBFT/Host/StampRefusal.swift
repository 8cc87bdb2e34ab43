/// Why a request of this validator's cannot be stamped: its client is answered
/// FAILURE with `reason` after its txid.
struct StampRefusal: Error {
    let reason: String
}
