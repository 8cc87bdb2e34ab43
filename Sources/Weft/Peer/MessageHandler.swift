import Foundation
import Logging

/// A link of the handler chain (Fabric's `MessageHandler`), run on the reactor
/// thread for each message of an established peer.
protocol MessageHandler: AnyObject {
    func handle(_ frame: InboundFrame, from c: Connection) -> Disposition
}
