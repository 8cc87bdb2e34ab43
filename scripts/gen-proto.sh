#!/usr/bin/env bash
# Regenerates Sources/Weft/Wire/fabric.pb.swift from ../shared/proto/fabric.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift of the same
# swift-protobuf version the package uses; the plugin is built once into
# .build-protoc (about a minute to ten, depending on the machine) unless
# PROTOC_GEN_SWIFT names one already built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
proto_dir=${PROTO_DIR:-$root/../shared/proto}
version=1.39.0

command -v protoc >/dev/null || { echo "gen-proto: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
plugin=${PROTOC_GEN_SWIFT:-$root/.build-protoc/swift-protobuf/.build/release/protoc-gen-swift}
if [ ! -x "$plugin" ]; then
  echo "gen-proto: building protoc-gen-swift $version into .build-protoc" >&2
  mkdir -p "$root/.build-protoc"
  [ -d "$root/.build-protoc/swift-protobuf" ] ||
    git clone -q --branch "$version" https://github.com/apple/swift-protobuf "$root/.build-protoc/swift-protobuf"
  swift build -c release --product protoc-gen-swift --package-path "$root/.build-protoc/swift-protobuf"
fi
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_out="$root/Sources/Weft/Wire" \
  -I "$proto_dir" fabric.proto
echo "gen-proto: wrote Sources/Weft/Wire/fabric.pb.swift" >&2
