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

    private static let names = ["vp0", "vp1", "vp2", "vp3"]

    /// Replica `i`'s signatures, with its key, certificate and CA from `certs`.
    private static func authenticator(_ i: Int, _ certs: TestCertificates) throws -> PBFTSignatures {
        try XCTUnwrap(PBFTSignatures(signer: try MessageSigner(keyFile: "\(certs.dir)/vp\(i).key"),
                                     trust: try TLSContext(certs.tls(for: "vp\(i)"), expectedName: "vp\(i)"),
                                     selfReplica: UInt64(i), replicaNames: names))
    }

    func testSignAndVerifyWithTLSKeysAndForgeriesFail() throws {
        let certs = try TestCertificates(names: ["vp0", "vp1", "vp2", "vp3"])
        let names = Self.names
        func authenticator(_ i: Int) throws -> PBFTSignatures { try Self.authenticator(i, certs) }
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
        var bare = sealed
        bare.viewChange.certificate = Data()
        XCTAssertEqual(try authenticator(0).check(bare, peers: { [] }), "VIEW-CHANGE for view 1 claiming replica 1: no certificate of vp1 carried or seen yet")
        XCTAssertNil(vp2.check(bare, peers: { peers }), "without the certificate: against the link's")

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

    /// Issue 21: a NEW-VIEW relays a VIEW-CHANGE of vp3, which this replica (vp0, just
    /// restarted) has never been connected to. It is accepted with the certificate it
    /// carries; refused, each naming why, when that certificate names another replica,
    /// comes from another CA, or the signature is not its key's.
    func testARelayedViewChangeOfAReplicaNeverConnectedIsCheckedWithTheCertificateItCarries() throws {
        let certs = try TestCertificates(names: Self.names)
        let stranger = try TestCertificates(names: ["vp3"], caName: "Another CA")
        let vp0 = try Self.authenticator(0, certs), vp1 = try Self.authenticator(1, certs)
        let vp2 = try Self.authenticator(2, certs), vp3 = try Self.authenticator(3, certs)
        func viewChange(_ replica: UInt64) -> Pbft_view_change {
            var vc = Pbft_view_change()
            vc.view = 1
            vc.h = 10
            vc.replicaID = replica
            return vc
        }
        /// vp1's NEW-VIEW for view 1 relaying vp1's, vp2's and `third` (claiming vp3).
        func newView(relaying third: Pbft_view_change) -> Pbft_message {
            var nv = Pbft_new_view()
            nv.view = 1
            nv.replicaID = 1
            nv.vset = [viewChange(1), vp2.sign(viewChange(2)), third]
            return vp1.seal(PBFTMake.message(.newView(nv)))
        }
        let linkToVp1 = [PeerInfo(id: PeerID(name: "vp1"), address: "127.0.0.1:1", type: .validator,
                                  certificate: try Self.der("\(certs.dir)/vp1.pem"))]
        let refusal = "NEW-VIEW for view 1 relays a VIEW-CHANGE claiming replica 3: "

        // Signed by vp3 with its certificate: good, though vp0 never saw vp3 (or vp2).
        let genuine = vp3.sign(viewChange(3))
        XCTAssertEqual(Array(genuine.certificate), try Self.der("\(certs.dir)/vp3.pem"))
        XCTAssertNil(vp0.check(newView(relaying: genuine), peers: { linkToVp1 }))
        XCTAssertEqual(vp0.verified, 3, "vp1's, vp2's and vp3's signatures")
        // Once verified, the certificate is cached: vp3's direct VIEW-CHANGE checks with no link.
        XCTAssertNil(vp0.check(PBFTMake.message(.viewChange(genuine)), peers: { [] }))

        // vp2's certificate and key, claiming vp3: the certificate does not name vp3.
        var otherName = viewChange(3)
        otherName.signature = Data(vp2.sign(PBFTSignatures.signedBytes(otherName))!)
        otherName.certificate = Data(try Self.der("\(certs.dir)/vp2.pem"))
        XCTAssertEqual(try Self.authenticator(0, certs).check(newView(relaying: otherName), peers: { linkToVp1 }),
                       refusal + "its certificate does not name vp3 (neither its CN nor a DNS SAN)")

        // A certificate named vp3 from another CA, signed with its key.
        var otherCA = viewChange(3)
        otherCA.signature = Data(try MessageSigner(keyFile: "\(stranger.dir)/vp3.key").sign(PBFTSignatures.signedBytes(otherCA))!)
        otherCA.certificate = Data(try Self.der("\(stranger.dir)/vp3.pem"))
        XCTAssertEqual(try Self.authenticator(0, certs).check(newView(relaying: otherCA), peers: { linkToVp1 }),
                       refusal + "its certificate does not chain to peer.tls.rootcert.file: unable to get local issuer certificate")
        // (and a relay cannot get it in once vp3's own certificate is cached: still checked, still refused)
        XCTAssertEqual(vp0.check(newView(relaying: otherCA), peers: { linkToVp1 }),
                       refusal + "its certificate does not chain to peer.tls.rootcert.file: unable to get local issuer certificate")

        // vp3's certificate, but signed by vp2's key; or altered after signing.
        var badSignature = viewChange(3)
        badSignature.signature = Data(vp2.sign(PBFTSignatures.signedBytes(badSignature))!)
        badSignature.certificate = genuine.certificate
        XCTAssertEqual(try Self.authenticator(0, certs).check(newView(relaying: badSignature), peers: { linkToVp1 }),
                       refusal + "bad signature")
        var altered = genuine
        altered.h = 20
        XCTAssertEqual(vp0.check(newView(relaying: altered), peers: { linkToVp1 }), refusal + "bad signature")

        // Garbage where the certificate goes.
        var garbage = genuine
        garbage.certificate = Data(repeating: 0x30, count: 40)
        XCTAssertEqual(try Self.authenticator(0, certs).check(newView(relaying: garbage), peers: { linkToVp1 }),
                       refusal + "its certificate does not parse as a DER X.509 certificate")
    }
}
