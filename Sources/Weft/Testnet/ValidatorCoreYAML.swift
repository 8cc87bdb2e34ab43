import Foundation

/// A validator's core.yaml in a testnet: only the keys that differ from the
/// built-in defaults for it (the sample core.yaml lists the rest). Relative
/// paths are taken from the file's folder (ConfigFilePaths).
public enum ValidatorCoreYAML {
    public static func text(for validator: ValidatorPlacement, in plan: TestnetPlan) -> String {
        let others = plan.validators.filter { $0 != validator }.map(\.address.description)
        var lines = [
            "# \(validator.name) of a \(plan.spec.validators)-validator \(plan.spec.consensus) network, written by `weft testnet` (weft \(WeftVersion.text)).",
            "# Start it with: weft node start --config <this file>. Relative paths are taken from this file's folder.",
            "peer:",
            "  id: \(validator.name)",
            "  listenAddress: \(quoted(validator.listenAddress.description))",
            "  address: \(quoted(validator.address.description))",
            "  fileSystemPath: \(TestnetLayout.dataFolder)",
            "  discovery:",
            "    # Every other validator: the mesh forms whichever starts first.",
            "    rootnode: \(quoted(others.joined(separator: ",")))",
            "  validator:",
            "    consensus:",
            "      plugin: \(plan.spec.consensus)",
            "  operations:",
            "    listenAddress: \(quoted(validator.operationsAddress.description))",
        ]
        if plan.spec.tls {
            lines += [
                "  tls:",
                "    enabled: true",
                "    cert:",
                "      file: \(TestnetLayout.certificateFile)",
                "    key:",
                "      file: \(TestnetLayout.keyFile)",
                "    rootcert:",
                "      file: \(TestnetLayout.rootCertificateFile)",
            ]
        }
        if plan.spec.consensus == "pbft" {
            lines += [
                "pbft:",
                "  general:",
                "    N: \(plan.spec.validators)",
                "    f: \(plan.faultsTolerated)",
                "    validators: \(quoted(plan.validators.map(\.name).joined(separator: ",")))",
            ]
        }
        lines += ["rest:", "  address: \(quoted(validator.restAddress.description))"]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ text: String) -> String { "\"\(text)\"" }
}
