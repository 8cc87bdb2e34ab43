public enum WeftVersion {
    public static let text = "0.1.0"
}
