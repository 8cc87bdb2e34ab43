import ArgumentParser

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Read a peer's block ledger, running or stopped: only its durable blocks.",
        discussion: "The ledger is found as the peer finds it: --path, else --data-dir, CORE_PEER_FILESYSTEMPATH, "
            + "peer.fileSystemPath in core.yaml (--config or $FABRIC_CFG_PATH), the default. Reading never disturbs a running peer.",
        subcommands: [LedgerVerifyCommand.self, LedgerTailCommand.self, LedgerBlocksCommand.self,
                      LedgerShowCommand.self, LedgerExportCommand.self, LedgerTxCommand.self])
}
