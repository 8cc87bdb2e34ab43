import ArgumentParser
struct LoadCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "load", abstract: "Load-test a peer (coming).") }
