#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Regenerates the Swift for the wire contract: proto/fabric.proto and
proto/pbft.proto -> Sources/Weft/Wire/{fabric,pbft}.pb.swift (committed).
  scripts/dev/gen-proto.sh
Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift of the same
swift-protobuf version the package uses. Unless PROTOC_GEN_SWIFT names one
already built, the plugin is built once into .build-protoc from the
swift-protobuf checkout SwiftPM already resolved (.build/checkouts; run
`swift build` first), which takes a minute to ten depending on the machine.
Environment: PROTO_DIR (where the .proto files are, default proto/),
PROTOC_GEN_SWIFT (a built plugin).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
[ $# -eq 0 ] || lib_die "takes no arguments, not '$1'"

root=$lib_root
proto_dir=${PROTO_DIR:-$root/proto}
version=1.39.0

command -v protoc >/dev/null || { echo "gen-proto: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
plugin=${PROTOC_GEN_SWIFT:-$root/.build-protoc/swift-protobuf/.build/release/protoc-gen-swift}
if [ ! -x "$plugin" ]; then
  checkout=$root/.build/checkouts/swift-protobuf
  [ -d "$checkout" ] || { echo "gen-proto: no $checkout: run 'swift build' first, or set PROTOC_GEN_SWIFT" >&2; exit 1; }
  echo "gen-proto: building protoc-gen-swift $version into .build-protoc" >&2
  mkdir -p "$root/.build-protoc"
  rm -rf "$root/.build-protoc/swift-protobuf"
  cp -r "$checkout" "$root/.build-protoc/swift-protobuf"
  swift build -c release --product protoc-gen-swift --package-path "$root/.build-protoc/swift-protobuf"
fi
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_out="$root/Sources/Weft/Wire" \
  -I "$proto_dir" fabric.proto pbft.proto
echo "gen-proto: wrote Sources/Weft/Wire/fabric.pb.swift and pbft.pb.swift" >&2
