import CWeftLinux
import Glibc

/// Readiness bits, as epoll reports them.
public enum Readiness {
    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue
    public static let error = EPOLLERR.rawValue
    public static let hangUp = EPOLLHUP.rawValue
}
