import CWeftLinux
import Glibc

/// What the loop calls once per turn, around its sleep.
public protocol EventLoopHooks: AnyObject {
    /// Runs before `epoll_wait`; returns true when it left work that must not
    /// wait (the loop then polls without blocking).
    func beforeSleep() -> Bool
    /// Runs right after `epoll_wait` returns, before any handler.
    func afterSleep()
}
