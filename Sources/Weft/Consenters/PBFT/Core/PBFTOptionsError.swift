struct PBFTOptionsError: Error, Equatable, CustomStringConvertible {
    let text: String
    var description: String { text }
}
