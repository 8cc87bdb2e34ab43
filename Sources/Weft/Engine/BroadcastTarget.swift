import Dispatch

public enum BroadcastTarget: Sendable {
    case validators, nonValidators, all

    func includes(_ type: PeerType) -> Bool {
        switch self {
        case .all: return true
        case .validators: return type == .validator
        case .nonValidators: return type != .validator
        }
    }
}
