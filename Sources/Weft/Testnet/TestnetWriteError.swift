import Glibc

/// A testnet file that could not be written, with the system's reason.
public struct TestnetWriteError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot write '\(path)': \(String(cString: strerror(errno)))" }
}
