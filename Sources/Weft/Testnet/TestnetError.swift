/// A `weft testnet` request that cannot be laid out (a usage error: the message names the flag).
public struct TestnetError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
