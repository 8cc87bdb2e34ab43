import CWeftLinux
import Glibc

public struct AddressError: Error, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "cannot resolve '\(text)': \(reason)" }
}
