import CWeftLinux
import Glibc

/// Something the event loop calls when its descriptor is ready.
public protocol EventHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}
