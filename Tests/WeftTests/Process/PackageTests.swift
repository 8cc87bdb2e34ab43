import Foundation
import Glibc
import Weft
import XCTest

/// scripts/release/package.sh's archive, unpacked and run the way a server without a
/// Swift toolchain would run it.
///
/// It uses the archive in dist/ when there is one (made by
/// `scripts/release/package.sh`); otherwise it builds it. package.sh from nothing
/// (static release build of everything, dependencies included, and the man
/// page tool) took 2 min 51 s on this 2-core machine; a rebuild, about a
/// minute. It builds from a copy of the sources (.build/package-src), so the
/// working tree is never modified while the suite runs. That keeps the suite (about 70 s otherwise) well under its
/// 15-minute budget on a fresh CI machine, and it is paid once: later runs
/// reuse the archive.
/// Set WEFT_PACKAGE_REBUILD=1 to rebuild an archive that is there.
final class PackageTests: XCTestCase {
    private var root: URL {
        RepoRoot.url
    }

    private func archive() throws -> URL {
        let dist = root.appendingPathComponent("dist")
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: dist.path))?
            .filter { $0.hasPrefix("weft-") && $0.hasSuffix(".tar.gz") }.sorted().last
        if let existing, ProcessInfo.processInfo.environment["WEFT_PACKAGE_REBUILD"] != "1" {
            return dist.appendingPathComponent(existing)
        }
        let run = try runProcess("/bin/bash", [root.appendingPathComponent("scripts/release/package.sh").path])
        XCTAssertEqual(run.status, 0, String(run.output.suffix(4000)))
        guard let path = run.output.split(separator: "\n").last.map(String.init), path.hasSuffix(".tar.gz") else {
            throw TestFailure("package.sh did not print the archive's path:\n\(run.output.suffix(4000))")
        }
        return URL(fileURLWithPath: path)
    }

    func testTheArchiveRunsWithoutTheSwiftToolchain() throws {
        let tarball = try archive()
        var arch = utsname()
        uname(&arch)
        let machine = withUnsafeBytes(of: &arch.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        XCTAssertTrue(tarball.lastPathComponent.hasPrefix("weft-"), tarball.path)
        XCTAssertTrue(tarball.lastPathComponent.hasSuffix("-linux-\(machine).tar.gz"), tarball.path)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-unpack-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let untar = try runProcess("/bin/tar", ["-xzf", tarball.path, "-C", dir.path])
        XCTAssertEqual(untar.status, 0, untar.output)
        let top = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.path).first)
        XCTAssertEqual(top + ".tar.gz", tarball.lastPathComponent)
        let unpacked = dir.appendingPathComponent(top)
        for file in ["weft", "core.yaml", "weft.service", "README.md", "CHANGELOG.md", "PROTOCOL.md", "TUNING.md", "FAULTS.md",
                     "completions/weft.bash", "completions/_weft", "completions/weft.fish", "man/weft.1"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: unpacked.appendingPathComponent(file).path)[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 0, "\(file) is missing or empty in \(tarball.lastPathComponent)")
        }
        let binary = unpacked.appendingPathComponent("weft").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary))

        // No Swift runtime library is needed: none is linked, and none is on the path.
        let clean = ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": "", "HOME": dir.path]
        let ldd = try runProcess("/usr/bin/ldd", [binary], environment: clean)
        XCTAssertEqual(ldd.status, 0, ldd.output)
        XCTAssertFalse(ldd.output.contains("libswift"), ldd.output)
        XCTAssertFalse(ldd.output.contains("libFoundation"), ldd.output)
        XCTAssertFalse(ldd.output.contains("not found"), ldd.output)
        XCTAssertFalse(ldd.output.contains("/swift"), "nothing from a Swift toolchain:\n\(ldd.output)")

        let version = try runClean(binary, ["version"])
        XCTAssertEqual(version.status, 0, version.output)
        XCTAssertTrue(version.output.hasPrefix("weft "), version.output)
        XCTAssertTrue(version.output.contains("(commit "), version.output)
        XCTAssertFalse(version.output.contains("commit dev"), "a release build names its commit: \(version.output)")
        let help = try runClean(binary, ["node", "start", "--help"])
        XCTAssertEqual(help.status, 0, help.output)
        XCTAssertTrue(help.output.contains("--data-dir"), help.output)
        XCTAssertTrue(help.output.contains("USAGE: weft node start"), help.output)

        // The completions and the man page describe this binary.
        let bash = try String(contentsOf: unpacked.appendingPathComponent("completions/weft.bash"), encoding: .utf8)
        XCTAssertTrue(bash.contains("--data-dir"))
        let man = try String(contentsOf: unpacked.appendingPathComponent("man/weft.1"), encoding: .utf8)
        XCTAssertTrue(man.contains(".Dt WEFT 1"), String(man.prefix(300)))
        XCTAssertTrue(man.contains("data-dir"))
        let unit = try String(contentsOf: unpacked.appendingPathComponent("weft.service"), encoding: .utf8)
        XCTAssertTrue(unit.contains("Type=notify"))
        XCTAssertTrue(unit.contains("\nRestartPreventExitStatus=64\n"))

        // One version: the binary's, the archive's name, the changelog's newest heading.
        let stated = try runClean(binary, ["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(top.hasPrefix("weft-\(stated)-linux-"), "archive \(top), binary \(stated)")
        let changelog = try String(contentsOf: unpacked.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        XCTAssertEqual(PackageTests.newestVersion(inChangelog: changelog), stated)

        // A deployment needs no source checkout: the archive's binary writes a TLS testnet (libcrypto, no openssl command).
        let net = dir.appendingPathComponent("net").path
        let testnet = try runClean(binary, ["testnet", "--validators", "4", "--hosts", "10.9.0.1:7051,10.9.0.2:7051,10.9.0.3:7051,10.9.0.4:7051",
                                            "--out", net, "--tls"])
        XCTAssertEqual(testnet.status, 0, testnet.output)
        for file in ["README.md", "client/client.pem", "client/client.key", "client/ca.pem", "vp3/core.yaml", "vp3/tls/peer.key", "vp3/weft-vp3.service"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: net + "/" + file), "testnet from the archive lacks \(file)")
        }
    }

    /// SHA256SUMS beside the archive names it with its digest (checked by sha256sum -c, as a user would).
    func testSHA256SUMSBesideTheArchiveMatchesIt() throws {
        let tarball = try archive()
        let folder = tarball.deletingLastPathComponent()
        let sums = try String(contentsOf: folder.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
        XCTAssertTrue(sums.contains("  \(tarball.lastPathComponent)\n"), sums)
        let check = try runProcess("/bin/sh", ["-c", "cd \"$0\" && sha256sum -c SHA256SUMS", folder.path])
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("\(tarball.lastPathComponent): OK"), check.output)
    }

    /// The archive's entries carry the commit's time, root's ownership and sorted names (gzip without a
    /// time stamp): packing the same binary twice (seconds apart: gzip of the 64 MB binary takes some) gives the same bytes.
    func testTheSameBinaryPacksToTheSameBytes() throws {
        _ = try archive()
        guard FileManager.default.isExecutableFile(atPath: root.appendingPathComponent(".build/package/release/weft").path) else {
            throw XCTSkip("the archive in dist/ was not built here (no .build/package): set WEFT_PACKAGE_REBUILD=1")
        }
        var digests: [String] = []
        for _ in 0..<2 {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("weft-repack-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: out) }
            let run = try runProcess("/bin/bash", [root.appendingPathComponent("scripts/release/package.sh").path, "--skip-build", "--out", out.path])
            XCTAssertEqual(run.status, 0, String(run.output.suffix(2000)))
            digests.append(try String(contentsOf: out.appendingPathComponent("SHA256SUMS"), encoding: .utf8))
        }
        XCTAssertEqual(digests[0], digests[1])
    }

    /// The release builds the same dependencies everywhere: Package.resolved is in the repository and pins each one.
    func testPackageResolvedPinsEveryDependency() throws {
        let resolved = try String(contentsOf: root.appendingPathComponent("Package.resolved"), encoding: .utf8)
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let urls = manifest.split(separator: "\"").filter { $0.hasPrefix("https://") }
        XCTAssertFalse(urls.isEmpty)
        for url in urls { XCTAssertTrue(resolved.contains("\"location\" : \"\(url)\""), "Package.resolved does not pin \(url)") }
        let ignored = try String(contentsOf: root.appendingPathComponent(".gitignore"), encoding: .utf8)
        XCTAssertFalse(ignored.split(separator: "\n").contains("Package.resolved"), ".gitignore must not hide Package.resolved")
        let version = try XCTUnwrap(PackageTests.newestVersion(inChangelog: try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)))
        XCTAssertEqual(version, WeftVersion.text, "CHANGELOG.md's newest version heading is Version.swift's version")
    }

    /// `## [1.2.3] - date`: the first numbered heading (`[Unreleased]` comes before it).
    static func newestVersion(inChangelog text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("## [") {
            let inside = line.dropFirst(4).prefix { $0 != "]" }
            if inside.first?.isNumber == true { return String(inside) }
        }
        return nil
    }

    /// Runs with only the system's directories on PATH and no LD_LIBRARY_PATH at all.
    private func runClean(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
