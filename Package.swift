// swift-tools-version:6.0
// Weft: the peer network layer of a Fabric v0.6 validating peer, on one epoll reactor.
import PackageDescription

let package = Package(
    name: "weft",
    products: [
        // The embeddable peer: reactor, wire codec, mesh, consenter protocols.
        .library(name: "Weft", targets: ["Weft"]),
        // The same library as an archive, for the fuzz target (scripts/dev/fuzz.sh).
        .library(name: "WeftStatic", type: .static, targets: ["Weft"]),
        .executable(name: "weft", targets: ["weft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // epoll, eventfd and timerfd are not exported by Glibc's module map.
        .systemLibrary(name: "CWeftLinux", path: "Sources/CWeftLinux"),
        // The system OpenSSL 3 (libssl-dev) for TLS peer links; see README "TLS".
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        // CRC-32C with the SSE4.2 instruction (a table where the CPU lacks it).
        .target(name: "CWeftCRC32C", path: "Sources/CWeftCRC32C"),
        .target(
            name: "Weft",
            dependencies: [
                "CWeftLinux",
                "COpenSSL",
                "CWeftCRC32C",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Operator tools built on the library: load generator, status, ledger.
        .target(
            name: "WeftTools",
            dependencies: [
                "Weft",
                "CWeftLinux",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "weft",
            dependencies: [
                "Weft",
                "CWeftLinux",
                "WeftTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WeftTests",
            dependencies: [
                "Weft", "WeftTools", "weft", "CWeftLinux",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
