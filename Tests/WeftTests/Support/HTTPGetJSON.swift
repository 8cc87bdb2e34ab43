import CWeftLinux
import Foundation
import Glibc
import Logging
import Synchronization
import Weft
import WeftTools
import XCTest

enum HTTPGetJSON {
    static func peers(_ p: PeerProcess) throws -> [[String: Any]] {
        let body = try HTTPGet.fetch(p.ops, path: "/peers")
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["peers"] as? [[String: Any]] ?? []
    }
}
