/// DIR/README.md of a testnet: what to copy where, and the commands to start,
/// check and use it.
public enum TestnetReadme {
    public static func text(for plan: TestnetPlan) -> String {
        [header(plan), table(plan), install(plan), check(plan), clients(plan), keys(plan)].joined(separator: "\n")
    }

    private static func header(_ plan: TestnetPlan) -> String {
        let spec = plan.spec
        let fault = spec.consensus == "pbft" ? " (PBFT N=\(spec.validators), f=\(plan.faultsTolerated): it keeps ordering with \(plan.faultsTolerated) validator(s) down)" : ""
        return """
        # Weft testnet: \(spec.validators) validator(s), \(spec.consensus)\(spec.tls ? ", mutual TLS 1.3" : "")

        Written by `weft testnet` (weft \(WeftVersion.text))\(fault). Each `vp<i>/` folder is one
        validator: its `core.yaml`\(spec.tls ? ", its TLS key and certificate in `tls/`" : "") and its systemd
        unit. Relative paths in a core.yaml are taken from the file's folder, so a folder works
        wherever it is put: `weft node start --config vp0/core.yaml` needs nothing else.

        """
    }

    private static func table(_ plan: TestnetPlan) -> String {
        var lines = ["| validator | host | peer address | operations | REST | folder on the host | unit |",
                     "|---|---|---|---|---|---|---|"]
        for v in plan.validators {
            lines.append("| \(v.name) | \(v.host) | \(v.address) | \(v.operationsAddress) | \(v.restAddress) | \(TestnetLayout.installFolder(v)) | \(TestnetLayout.unitName(v)) |")
        }
        return lines.joined(separator: "\n") + """


        The peer port takes the other validators and clients (open it between the hosts and to
        the clients); the operations and REST ports listen on each host's loopback only.

        """
    }

    private static func install(_ plan: TestnetPlan) -> String {
        var text = """
        ## Install

        On every host, once: the `weft` binary from the release archive (no Swift toolchain
        needed; glibc and OpenSSL 3) and the user the units run as:

            sudo install -m 755 weft \(TestnetLayout.binary)
            sudo useradd --system --no-create-home --home-dir \(TestnetLayout.installRoot) --shell /usr/sbin/nologin weft

        Then copy each validator's folder to its host and start its unit:

        """
        var hosts: [String] = []
        for v in plan.validators where !hosts.contains(v.host) { hosts.append(v.host) }
        for host in hosts {
            text += "\nOn \(host):\n\n"
            for v in plan.validators where v.host == host {
                let folder = TestnetLayout.installFolder(v), unit = TestnetLayout.unitName(v)
                text += """
                    # \(v.name): copy this testnet's \(v.name)/ folder to the host first (scp -r \(v.name) \(host):)
                    sudo install -d -m 755 \(TestnetLayout.installRoot) && sudo cp -r \(v.name) \(folder) && sudo chown -R weft:weft \(folder)
                    sudo cp \(folder)/\(unit) /etc/systemd/system/ && sudo systemctl daemon-reload
                    sudo systemctl enable --now \(unit)

                """
            }
        }
        return text + """

        The unit waits for the peer's READY (its listeners bound), restarts it on failure but
        not after exit 64 (a configuration error: `journalctl -u weft-vp0` names the key).
        Without systemd, run `weft node start --config vp<i>/core.yaml` on the validator's host.

        """
    }

    private static func check(_ plan: TestnetPlan) -> String {
        let first = plan.validators[0]
        return """
        ## Check

        On a validator's host (its operations port from the table):

            systemctl status \(TestnetLayout.unitName(first))
            weft node status --ops \(first.operationsAddress)     # \(plan.spec.validators - 1) established peer(s) once all are up
            curl -s http://\(first.operationsAddress)/healthz

        """
    }

    private static func clients(_ plan: TestnetPlan) -> String {
        let target = plan.validators[0].address
        let tlsFlags = plan.spec.tls
            ? " --tls-cert \(TestnetLayout.clientFolder)/client.pem --tls-key \(TestnetLayout.clientFolder)/client.key --tls-root-cert \(TestnetLayout.clientFolder)/ca.pem --id-domain \(TestnetLayout.clientDomain)"
            : ""
        let certificates = plan.spec.tls ? """
        `\(TestnetLayout.clientFolder)/` holds a client certificate (`client.pem`, `client.key`) and the CA (`ca.pem`);
        its names are `*.\(TestnetLayout.clientDomain)`, so clients run with `--id-domain \(TestnetLayout.clientDomain)`.

        """ : ""
        return """
        ## Send transactions

        \(certificates)From any machine that reaches a validator's peer port:

            weft tx submit --target \(target) --payload hello --wait\(tlsFlags)
            weft load --mode tx --target \(target) -d 5\(tlsFlags)

        and read them back on a validator's host: `weft ledger tail --path \(TestnetLayout.installFolder(plan.validators[0]))/\(TestnetLayout.dataFolder)`.

        """
    }

    private static func keys(_ plan: TestnetPlan) -> String {
        guard plan.spec.tls else { return "" }
        return """
        ## Keys

        `\(TestnetLayout.caFolder)/ca.key` signs certificates every validator trusts: keep it off the hosts (or
        delete it). `vp<i>/tls/peer.key` belongs on vp<i>'s host only, and `\(TestnetLayout.clientFolder)/client.key`
        with the clients. Each certificate is good for \(TestnetWriter.certificateDays) days, the CA for
        \(TestnetWriter.caDays); names: CN and DNS `vp<i>` (the peer id the others check) and the validator's
        host (IP or DNS). To add or replace validators, write a new testnet and copy every folder.

        """
    }
}
