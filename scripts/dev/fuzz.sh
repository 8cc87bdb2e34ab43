#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Fuzzes the frame decoder and the hello checks with libFuzzer (Fuzz/FrameFuzz.swift),
starting from the committed seed corpus in Fuzz/corpus.

  scripts/dev/fuzz.sh [SECONDS] [-flag=value ...]      SECONDS defaults to 60; then libFuzzer's own flags

Builds the Weft library with -sanitize=fuzzer,address into .build-fuzz, links the
target against it and runs it for the given time; exits with libFuzzer's status
(non-zero on a crash, whose input libFuzzer leaves in .build-fuzz/crash-*).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

seconds=60
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    [[ "$1" =~ ^[0-9]+$ ]] || lib_die "seconds must be a whole number, not '$1'"
    seconds=$1; shift
fi
for flag in "$@"; do
    [[ "$flag" =~ ^-[A-Za-z_]+=. ]] || lib_die "unknown argument '$flag' (libFuzzer flags look like -name=value)"
done
cd "$lib_root"
scratch=.build-fuzz
echo "fuzz: building the library with -sanitize=fuzzer,address" >&2
swift build -c release --scratch-path "$scratch" --product WeftStatic \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
lib=$(find "$scratch" -name 'libWeftStatic.a' | head -1)
mods=$(dirname "$lib")/Modules
cyaml=$(dirname "$(find "$scratch/checkouts/Yams" -path '*CYaml*' -name module.modulemap | head -1)")
# swiftc warns about symbols it cannot export from the static library: not ours to fix, filtered.
swiftc -O -sanitize=fuzzer,address -parse-as-library Fuzz/FrameFuzz.swift \
  -I "$mods" -I Sources/CWeftLinux -I "$cyaml" "$lib" -lstdc++ -o "$scratch/frame-fuzz" 2>&1 \
  | { grep -v "Cannot export local symbol" || true; } >&2
work=$(mktemp -d)
cp Fuzz/corpus/* "$work/" 2>/dev/null || true
echo "fuzz: running for ${seconds}s (corpus: Fuzz/corpus, new inputs in $work)" >&2
cd "$scratch"
# libFuzzer's status, not tail's and not set -e's: the pipeline may fail.
status=0
./frame-fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 "$@" "$work" 2>&1 \
  | tail -n 25 || status=${PIPESTATUS[0]}
if [ "$status" = 0 ]; then echo "fuzz: no crash in ${seconds}s" >&2; else echo "fuzz: libFuzzer exited $status" >&2; fi
exit "$status"
