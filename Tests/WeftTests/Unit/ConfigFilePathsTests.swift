import Foundation
import Weft
import Testing

/// Relative paths in a core.yaml are taken from the file's folder; in
/// variables and flags, from the working directory.
@Suite struct ConfigFilePathsTests {
    private func folderWithCoreYAML(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfgpaths-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/core.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func relativePathsInAFileAreTakenFromItsFolder() throws {
        let dir = try folderWithCoreYAML("""
        peer:
          id: vp1
          fileSystemPath: data
          tls:
            cert.file: tls/peer.pem
            key:
              file: ./tls/peer.key
            rootcert:
              file: ../shared/ca.pem
        """)
        let config = try ConfigLoader.load(file: dir + "/core.yaml", environment: [:], overrides: []).0
        #expect(config.fileSystemPath == dir + "/data")
        #expect(config.tls.keyFile == dir + "/tls/peer.key")
        #expect(config.tls.rootCertFile == (dir as NSString).deletingLastPathComponent + "/shared/ca.pem")
        #expect(config.peerID == "vp1", "other keys are not paths")
    }

    @Test func absolutePathsAndEmptyValuesStayAsTheyAre() throws {
        let dir = try folderWithCoreYAML("peer:\n  fileSystemPath: /srv/weft\n  tls:\n    cert:\n      file: \"\"\n")
        let config = try ConfigLoader.load(file: dir + "/core.yaml", environment: [:], overrides: []).0
        #expect(config.fileSystemPath == "/srv/weft")
        #expect(config.tls.certFile == "")
    }

    @Test func aFileNamedByARelativePathIsResolvedFromTheWorkingDirectory() {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(ConfigFilePaths.resolve("peer.fileSystemPath", "data", againstFolderOf: "net/vp0/core.yaml") == cwd + "/net/vp0/data")
        #expect(ConfigFilePaths.resolve("peer.fileSystemPath", "data", againstFolderOf: "core.yaml") == cwd + "/data")
    }

    @Test func variablesAndFlagsKeepTheirRelativePaths() throws {
        let dir = try folderWithCoreYAML("peer:\n  fileSystemPath: data\n")
        let config = try ConfigLoader.load(file: dir + "/core.yaml", environment: ["CORE_PEER_TLS_CERT_FILE": "certs/a.pem"],
                                           overrides: [("peer.fileSystemPath", "here")]).0
        #expect(config.fileSystemPath == "here")
        #expect(config.tls.certFile == "certs/a.pem")
    }

    @Test func aFilesKeyResolvesEachPathOfItsList() {
        let resolved = ConfigFilePaths.resolve("operations.tls.clientRootCAs.files", "a.pem, /etc/b.pem,c/d.pem", againstFolderOf: "/etc/weft/core.yaml")
        #expect(resolved == "/etc/weft/a.pem,/etc/b.pem,/etc/weft/c/d.pem")
        #expect(ConfigFilePaths.resolve("peer.id", "vp0", againstFolderOf: "/etc/weft/core.yaml") == "vp0")
    }
}
