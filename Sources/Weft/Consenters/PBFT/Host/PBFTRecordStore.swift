/// Where the replica's `PBFTReady.records` are kept across restarts: a port,
/// so the whole-host simulator can lose what was not made durable.
protocol PBFTRecordStore: AnyObject {
    /// Stores `value` under `key`, or removes the key (nil). Not durable until `sync()`.
    func apply(key: String, value: [UInt8]?) throws
    /// Everything applied so far is durable when this returns (one flush for all of it).
    func sync() throws
}
