/// Every setting of a peer (PROTOCOL.md section 6). `ConfigLoader` fills it
/// from core.yaml, `CORE_*` variables and flags; embedders may build it directly.
public struct PeerConfig: Sendable, Equatable {
    public var peerID = "vp0"
    public var listenAddress = "0.0.0.0:7051"
    /// Advertised `host:port`; empty = the listen address with a routable host.
    public var address = ""
    public var validatorEnabled = true
    public var fileSystemPath = "/var/hyperledger/production"
    /// HTTP /metrics, /healthz, /peers; empty = off.
    public var operationsListenAddress = "127.0.0.1:9443"
    /// `operations.tls.*`: TLS and client certificates on that listener.
    public var operationsTLS = OperationsTLS()
    public var logLevel = "info"
    /// `logging.format`: one text line per event, or JSON lines.
    public var logFormat = LogFormat.text

    public var discovery = Discovery()
    public var consensus = Consensus()
    public var socket = SocketOptions()
    public var limits = Limits()
    public var tls = TLS()
    public var pbft = PBFT()
    /// `peer.sync.*`: state transfer (PROTOCOL.md section 9).
    public var sync = Sync()

    /// `rest.*`: Fabric v0.6's REST API (PROTOCOL.md section 11).
    public var rest = REST()

    public struct REST: Sendable, Equatable {
        public var enabled = true
        /// Fabric's key; Fabric's default was 0.0.0.0:7050, Weft's is local (no authentication).
        public var address = "127.0.0.1:7050"
        /// Connections served at once (one thread each); more are answered 503.
        public var maxConnections = 64
        /// Ledger reads waiting for the reader thread; more are answered 503.
        public var readQueue = 64
        /// Test only: the reader thread sleeps this long before each read.
        public var testReadDelayNanos: UInt64 = 0
    }

    public struct Sync: Sendable, Equatable {
        /// Most blocks in one SYNC_BLOCKS answer (and asked for in one SYNC_GET_BLOCKS).
        public var blocksPerRequest = 20
        /// A source that has not answered by then is given up for the next.
        public var requestTimeoutNanos: UInt64 = 2_000_000_000
    }

    public struct Discovery: Sendable, Equatable {
        public var rootNodes: [String] = []
        public var periodNanos: UInt64 = 5_000_000_000
        public var maxPeers = 64
        public var forgetAfterNanos: UInt64 = 600_000_000_000
        public var persist = true
        public var connectTimeoutNanos: UInt64 = 3_000_000_000
    }

    public enum Overflow: String, Sendable, Equatable, CaseIterable {
        /// Stop reading the senders until the ring drains below half.
        case backpressure
        /// Fabric v0.6: drop and log "Message channel for <id> full, rejecting".
        case reject
    }

    public struct Consensus: Sendable, Equatable {
        public var plugin = "noops"
        public var bufferSize = 1000
        public var overflow = Overflow.backpressure
        public var noopsBlockSize = 500
        public var noopsBlockTimeoutNanos: UInt64 = 1_000_000_000
        /// fsync per block (`block`) or once per group-commit window (`group`).
        public var noopsSync = "block"
        public var noopsGroupCommitNanos: UInt64 = 2_000_000
        /// Test and load aid: the echo consenter sleeps this long per message.
        public var echoDelayNanos: UInt64 = 0
    }

    public struct Limits: Sendable, Equatable {
        public var maxConnections = 1024
        public var maxFrameSize = FrameFormat.defaultMaxFrameSize
        public var handshakeTimeoutNanos: UInt64 = 5_000_000_000
        public var idleTimeoutNanos: UInt64 = 0
        public var maxPendingWrite = 16 << 20
        /// Frames handled per connection per turn before the others get theirs.
        public var readBudget = 128
    }

    /// `peer.tls.*`: mutual TLS 1.3 on every peer link (Fabric v0.6's keys).
    public struct TLS: Sendable, Equatable {
        public var enabled = false
        /// PEM: this peer's certificate (then any intermediates).
        public var certFile = ""
        /// PEM: its private key.
        public var keyFile = ""
        /// PEM: the CA every peer's certificate must chain to.
        public var rootCertFile = ""
        /// Dialing: the name the other peer's certificate must carry (and the
        /// SNI sent); empty = no name check in the handshake, the DISC_HELLO
        /// name is checked against the certificate instead.
        public var serverHostOverride = ""
        /// Inbound: a peer without a certificate is refused in the handshake.
        public var clientAuthRequired = true

        public init() {}

        /// TLS on, with these PEM files.
        public init(certFile: String, keyFile: String, rootCertFile: String) {
            enabled = true
            self.certFile = certFile
            self.keyFile = keyFile
            self.rootCertFile = rootCertFile
        }
    }

    /// `pbft.*` (PROTOCOL.md section 8; Fabric v0.6's `consensus/pbft/config.yaml` keys).
    public struct PBFT: Sendable, Equatable {
        /// Replicas in the network.
        public var n = 4
        /// Faulty replicas tolerated (N >= 3f+1).
        public var f = 1
        /// Checkpoint period, in executed batches.
        public var k = 10
        /// The log window L = K x logMultiplier.
        public var logMultiplier = 4
        /// Requests per batch.
        public var batchSize = 500
        /// Replica names in replica-id order; empty = `vp0`..`vp<N-1>`.
        public var validators: [String] = []
        public var batchTimeoutNanos: UInt64 = 1_000_000_000
        public var requestTimeoutNanos: UInt64 = 2_000_000_000
        public var viewChangeTimeoutNanos: UInt64 = 2_000_000_000
        public var resendViewChangeNanos: UInt64 = 2_000_000_000
        /// 0 = off.
        public var nullRequestNanos: UInt64 = 0
        public var broadcastTimeoutNanos: UInt64 = 1_000_000_000
        /// Weft: a txid among the chain's last this-many transactions is not
        /// ordered again. The same on every validator.
        public var txidWindow = 1_000_000
        /// Weft: at most this many of this validator's clients' transactions
        /// outstanding (received, not yet answered); one more is answered
        /// FAILURE at once. Bounds the memory a disk stall or a flood costs.
        public var maxOutstanding = 20_000
        /// Test mode only: how this replica misbehaves; `""` = it does not.
        /// `wrong-digest`: its PREPAREs and COMMITs carry a digest of its own;
        /// `phantom-prepare`: it also prepares and commits sequence numbers it
        /// never saw a pre-prepare for; `equivocate`: as primary it sends each
        /// backup a different batch for the same sequence number;
        /// `forge-view-change`: it sends VIEW-CHANGEs (and a NEW-VIEW relaying
        /// them) claiming other replicas' ids, unsigned or wrongly signed;
        /// `bad-blocks`: it answers SYNC_GET_BLOCKS with blocks that do not
        /// link or a chain that misses the target.
        public var byzantine = ""
        public static let byzantineModes = ["wrong-digest", "phantom-prepare", "equivocate", "forge-view-change", "bad-blocks", "lose-spread", "forge-requests"]

        public init() {}

        /// The replica names in id order.
        public var replicaNames: [String] { validators.isEmpty ? (0..<n).map { "vp\($0)" } : validators }
    }

    public init() {}
}

extension SocketOptions.Failure {
    /// The configuration key of the option that could not be set.
    var configKey: String {
        let keys: [PartialKeyPath<SocketOptions>: String] = [
            \.tcpNoDelay: "peer.socket.tcpNoDelay", \.sendBuffer: "peer.socket.sendBuffer",
            \.receiveBuffer: "peer.socket.receiveBuffer", \.keepaliveEnabled: "peer.socket.keepalive.enabled",
            \.keepaliveIdleSeconds: "peer.socket.keepalive.idle", \.keepaliveIntervalSeconds: "peer.socket.keepalive.interval",
            \.keepaliveCount: "peer.socket.keepalive.count", \.reuseAddress: "peer.socket.reuseAddress",
            \.reusePort: "peer.socket.reusePort", \.userTimeoutMillis: "peer.socket.userTimeout",
            \.notSentLowat: "peer.socket.notSentLowat", \.lingerSeconds: "peer.socket.lingerSeconds",
        ]
        return keys[option] ?? "peer.socket"
    }
}
