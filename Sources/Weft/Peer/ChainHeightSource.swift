/// Where the peer layer reads the chain height it puts in DISC_HELLO (as
/// Fabric's peer asks its ledger). The consenter is one: `Consenter`
/// refines this protocol, so the peer layer needs nothing above it.
public protocol ChainHeightSource: AnyObject, Sendable {
    /// The height of this peer's chain (any thread).
    var chainHeight: UInt64 { get }
}
