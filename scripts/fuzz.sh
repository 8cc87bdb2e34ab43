#!/usr/bin/env bash
# Fuzzes the frame decoder and the hello checks with libFuzzer (Fuzz/FrameFuzz.swift),
# starting from the committed seed corpus in Fuzz/corpus.
#   scripts/fuzz.sh [seconds=60] [extra libFuzzer flags...]
# Builds the Weft library with -sanitize=fuzzer,address into .build-fuzz, links the
# target against it, runs it for the given time on both cores (-jobs=2); exits
# non-zero on a crash, whose input libFuzzer leaves in .build-fuzz/crash-*.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}; shift || true
cd "$root"
scratch=.build-fuzz
echo "fuzz: building the library with -sanitize=fuzzer,address" >&2
swift build -c release --scratch-path "$scratch" --product WeftStatic \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
lib=$(find "$scratch" -name 'libWeftStatic.a' | head -1)
mods=$(dirname "$lib")/Modules
cyaml=$(dirname "$(find "$scratch/checkouts/Yams" -path '*CYaml*' -name module.modulemap | head -1)")
swiftc -O -sanitize=fuzzer,address -parse-as-library Fuzz/FrameFuzz.swift \
  -I "$mods" -I Sources/CWeftLinux -I "$cyaml" "$lib" -lstdc++ -o "$scratch/frame-fuzz" 2>&1 | grep -v "Cannot export local symbol" >&2 || true
work=$(mktemp -d)
cp Fuzz/corpus/* "$work/" 2>/dev/null || true
echo "fuzz: running for ${seconds}s (corpus: Fuzz/corpus, new inputs in $work)" >&2
cd "$scratch"
./frame-fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 "$@" "$work" 2>&1 | tail -n 25; status=${PIPESTATUS[0]}
[ "$status" = 0 ] && echo "fuzz: no crash in ${seconds}s" >&2
exit "$status"
