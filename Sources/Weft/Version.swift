public enum WeftVersion {
    /// The one place the version is stated: `weft --version`, `weft version`, `/version` and
    /// `weft_build_info` print it, scripts/release/package.sh names the archive from the built binary's
    /// `--version`, and PackageTests holds CHANGELOG.md's newest version heading to it.
    public static let text = "0.1.0"
    /// The git commit built (`scripts/release/package.sh` stamps it in BuildCommit.swift; a development build says `dev`).
    public static let commit = buildCommit
    /// The Swift language mode and compiler the binary was built with.
    public static let swift: String = {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()
}
