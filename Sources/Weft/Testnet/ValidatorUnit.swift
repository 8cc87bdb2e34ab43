/// A validator's systemd unit in a testnet: deploy/weft.service (the
/// packaged unit) but for one validator whose folder is its state directory,
/// /var/lib/weft/vp<i>, so several validators can share a host. A test keeps
/// every other line equal to deploy/weft.service.
public enum ValidatorUnit {
    public static func text(for validator: ValidatorPlacement, in plan: TestnetPlan) -> String {
        let folder = TestnetLayout.installFolder(validator)
        return """
        # \(TestnetLayout.unitName(validator)): validator \(validator.name) (\(validator.address)) of a \
        \(plan.spec.validators)-validator \(plan.spec.consensus) network, written by `weft testnet`.
        # Install on \(validator.host) (README.md of the testnet folder):
        #   sudo cp -r \(validator.name) \(folder) && sudo chown -R weft:weft \(folder)
        #   sudo cp \(folder)/\(TestnetLayout.unitName(validator)) /etc/systemd/system/ && sudo systemctl daemon-reload
        #   sudo systemctl enable --now \(TestnetLayout.unitName(validator))
        [Unit]
        Description=Weft validator \(validator.name) (Hyperledger Fabric v0.6 peer network layer)
        Documentation=https://hyperledger-fabric.readthedocs.io/en/v0.6/
        After=network-online.target
        Wants=network-online.target

        [Service]
        Type=notify
        NotifyAccess=main
        User=weft
        Group=weft
        # The folder holds core.yaml, tls/ and data/ (core.yaml's relative paths are taken from it).
        StateDirectory=weft/\(validator.name)
        StateDirectoryMode=0750
        WorkingDirectory=\(folder)
        ExecStart=\(TestnetLayout.binary) node start --config \(folder)/core.yaml
        KillSignal=SIGTERM
        \(startTimeoutLine)
        TimeoutStopSec=15
        Restart=on-failure
        RestartSec=2
        # Exit 64 is a configuration error: restarting cannot mend it.
        RestartPreventExitStatus=64
        LimitNOFILE=65536

        NoNewPrivileges=true
        ProtectSystem=strict
        ReadWritePaths=\(folder)
        ProtectHome=true
        PrivateTmp=true
        PrivateDevices=true
        ProtectKernelTunables=true
        ProtectKernelModules=true
        ProtectKernelLogs=true
        ProtectControlGroups=true
        ProtectClock=true
        ProtectHostname=true
        RestrictNamespaces=true
        RestrictRealtime=true
        RestrictSUIDSGID=true
        LockPersonality=true
        MemoryDenyWriteExecute=true
        RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
        CapabilityBoundingSet=
        AmbientCapabilities=
        SystemCallArchitectures=native
        SystemCallFilter=@system-service
        UMask=0027

        [Install]
        WantedBy=multi-user.target

        """
    }

    /// The same start timeout as deploy/weft.service (the measurement is stated there).
    static let startTimeoutLine = "TimeoutStartSec=180"
}
