/// Why a simulated write failed.
enum SimDiskError: Error, CustomStringConvertible {
    case full
    case crashed

    var description: String {
        switch self {
        case .full: return "No space left on device (simulated)"
        case .crashed: return "the process died (simulated crash)"
        }
    }
}
