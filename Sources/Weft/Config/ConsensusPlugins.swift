/// The values `peer.validator.consensus.plugin` takes. The config checks a
/// name here; `ConsenterRegistry` (Consenters/) builds the one named.
public enum ConsensusPlugins {
    public static let names = ["noops", "pbft", "echo"]
}
