import ArgumentParser
import Weft

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "List every config key: its environment variable, default and meaning.",
        discussion: "core.yaml beside the README holds the same keys with their defaults.")

    func run() {
        for key in ConfigLoader.keys {
            print("\(key.path)  (\(key.environmentName), default \(key.defaultText.isEmpty ? "\"\"" : key.defaultText))")
            print("    \(key.help)")
        }
    }
}
