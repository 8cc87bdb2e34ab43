import Foundation
@testable import Weft
import XCTest

/// Signed VIEW-CHANGEs (PROTOCOL.md section 8) without processes: keys and
/// certificates from scripts/cluster/gen-certs.sh, checked the way the adapter does.
final class PBFTSignatureTests: XCTestCase {
    private static func der(_ pemFile: String) throws -> [UInt8] {
        let pem = try String(contentsOfFile: pemFile, encoding: .utf8)
        let body = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")[1].components(separatedBy: "-----END CERTIFICATE-----")[0]
        return Array(Data(base64Encoded: body.replacingOccurrences(of: "\n", with: ""))!)
    }

    func testSignAndVerifyWithTLSKeysAndForgeriesFail() throws {
        let certs = try TestCertificates(names: ["vp0", "vp1", "vp2", "vp3"])
        let names = ["vp0", "vp1", "vp2", "vp3"]
        func authenticator(_ i: Int) throws -> PBFTSignatures {
            PBFTSignatures(signer: try MessageSigner(keyFile: "\(certs.dir)/vp\(i).key"),
                           ownKey: SignatureVerifier(certificateFile: "\(certs.dir)/vp\(i).pem")!,
                           selfReplica: UInt64(i), replicaNames: names)
        }
        let peers = try names.map { name in
            PeerInfo(id: PeerID(name: name), address: "127.0.0.1:1", type: .validator, certificate: try Self.der("\(certs.dir)/\(name).pem"))
        }
        let vp1 = try authenticator(1), vp2 = try authenticator(2), vp3 = try authenticator(3)

        var vc = Pbft_view_change()
        vc.view = 1
        vc.h = 4
        vc.replicaID = 1
        var m = Pbft_message()
        m.viewChange = vc
        XCTAssertEqual(vp2.check(m, peers: { peers }), "VIEW-CHANGE for view 1 claiming replica 1: unsigned")
        let sealed = vp1.seal(m)
        XCTAssertNotNil(sealed.viewChange.signature.isEmpty ? nil : sealed)
        XCTAssertNil(vp2.check(sealed, peers: { peers }), "signed by vp1, checked against vp1's certificate")
        XCTAssertNil(vp1.check(sealed, peers: { [] }), "its own, against its own certificate")

        // Through the wire encoding and back: still valid.
        let decoded = try Pbft_message(serializedBytes: PBFTEncoding.bytes(sealed))
        XCTAssertNil(vp2.check(decoded, peers: { peers }))

        // Altered after signing, claimed by another, signed by another's key, garbage.
        var altered = sealed
        altered.viewChange.h = 6
        XCTAssertEqual(vp2.check(altered, peers: { peers }), "VIEW-CHANGE for view 1 claiming replica 1: bad signature")
        XCTAssertNil(vp3.seal(m).viewChange.signature.isEmpty ? nil : "", "vp3 does not sign what claims vp1")
        var claimed = m
        claimed.viewChange.signature = Data(vp3.sign(PBFTSignatures.signedBytes(m.viewChange))!)
        XCTAssertEqual(vp2.check(claimed, peers: { peers }), "VIEW-CHANGE for view 1 claiming replica 1: bad signature")
        claimed.viewChange.signature = Data(repeating: 7, count: 72)
        XCTAssertEqual(vp2.check(claimed, peers: { peers }), "VIEW-CHANGE for view 1 claiming replica 1: bad signature")
        XCTAssertEqual(try authenticator(0).check(sealed, peers: { [] }), "VIEW-CHANGE for view 1 claiming replica 1: no certificate of vp1 seen yet")

        // NEW-VIEW: the primary's own view-change is signed on the way out; one forged entry spoils it.
        var own = vc
        own.replicaID = 1
        var other = vc
        other.replicaID = 2
        other = vp2.sign(other)
        var nv = Pbft_new_view()
        nv.view = 1
        nv.replicaID = 1
        nv.vset = [own, other]
        var nvm = Pbft_message()
        nvm.newView = nv
        let sealedNV = vp1.seal(nvm)
        XCTAssertNil(vp3.check(sealedNV, peers: { peers }))
        XCTAssertNil(vp2.check(sealedNV, peers: { peers }), "its own view-change relayed back, against its own certificate")
        var forgedNV = sealedNV
        var forgedEntry = vc
        forgedEntry.replicaID = 3
        forgedNV.newView.vset.append(forgedEntry)
        XCTAssertEqual(vp2.check(forgedNV, peers: { peers }), "NEW-VIEW for view 1 relays a VIEW-CHANGE claiming replica 3: unsigned")

        // The last certificate seen is kept while the replica is not connected.
        XCTAssertNil(vp2.check(sealed, peers: { [] }))
    }
}
