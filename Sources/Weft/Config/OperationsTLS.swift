extension PeerConfig {
    /// `operations.tls.*` (Fabric 1.4's keys): TLS on the operations listener,
    /// and who may use it.
    public struct OperationsTLS: Sendable, Equatable {
        public var enabled = false
        /// PEM: the listener's certificate (then any intermediates).
        public var certFile = ""
        /// PEM: its private key.
        public var keyFile = ""
        /// A client certificate from `clientRootCAFiles` is needed for
        /// `PUT /logspec`, and for the reads unless `openReads` (403 without).
        public var clientAuthRequired = false
        /// PEM CAs a client certificate must chain to.
        public var clientRootCAFiles: [String] = []
        /// Weft: with `clientAuthRequired`, the GETs still answer any client.
        public var openReads = false

        public init() {}
    }
}
