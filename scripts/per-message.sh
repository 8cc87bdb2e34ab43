#!/usr/bin/env bash
# What one echoed message costs the peer in user space: instructions, heap
# allocations and reference-count operations, counted by callgrind while
# `weft load` drives the echo consenter (the kernel's share is not counted;
# see docs/BENCHMARKS.md for the syscalls per message).
#
#   scripts/per-message.sh [-c CONNECTIONS] [-w WINDOW] [-d SECONDS] [-s BYTES] [--peer BINARY]
#     defaults: -c 4 -w 8 -d 5 -s 128 (the peer runs ~50x slower under valgrind)
#     --peer: count another weft build (an A/B); default: this tree's release build
#
# The peer binary is the release build without its debug sections: valgrind
# 3.19 cannot read Swift's DWARF 5; the symbol table stays, so functions keep
# their names. Instrumentation is switched on only while the load runs, so
# start-up and shut-down are not counted. Needs valgrind (installed with
# apt-get if missing and root).
set -euo pipefail
cd "$(dirname "$0")/.."

conns=4 window=8 secs=5 size=128 peer_binary=
while [ $# -gt 0 ]; do
    case "$1" in
        -c) conns=$2; shift 2 ;;
        -w) window=$2; shift 2 ;;
        -d) secs=$2; shift 2 ;;
        -s) size=$2; shift 2 ;;
        --peer) peer_binary=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "per-message: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq valgrind >/dev/null
    else
        echo "per-message: valgrind is not installed (apt-get install valgrind)" >&2; exit 1
    fi
fi

swift build -c release --product weft >&2
work=$(mktemp -d /tmp/weft-per-message.XXXXXX)
peer=
cleanup() { [ -n "$peer" ] && kill "$peer" 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$work/callgrind.out" "$KEEP"; rm -rf "$work"; }
trap cleanup EXIT
cp "${peer_binary:-.build/release/weft}" "$work/weft"
strip --strip-debug "$work/weft"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$work/weft" node start --peer-id per-message --listen "127.0.0.1:$port" --ops-listen "" \
    --data-dir "$work/data" --consensus echo --log-level error --set peer.discovery.persist=false \
    2>"$work/valgrind.log" &
peer=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.2
done

callgrind_control -i on "$peer" >/dev/null
.build/release/weft load --target "127.0.0.1:$port" -c "$conns" -w "$window" -s "$size" \
    -d "$secs" --warmup 0 --json >"$work/load.json"
callgrind_control -i off "$peer" >/dev/null
kill -TERM "$peer"; wait "$peer" || true
peer=

python3 - "$work/callgrind.out" "$work/load.json" "$conns" "$window" "$size" <<'EOF'
import json, re, sys
out, load, conns, window, size = sys.argv[1:]
echoes = json.load(open(load))["received"]
names, calls, total, callee = {}, {}, 0, None
for line in open(out):
    if line.startswith("summary:") or line.startswith("totals:"):
        total = int(line.split()[1])
    elif line.startswith("cfn="):
        m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
        if m.group(2): names[m.group(1)] = m.group(2)
        callee = names.get(m.group(1), m.group(1))
    elif line.startswith("fn="):
        m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
        if m and m.group(2): names[m.group(1)] = m.group(2)
    elif line.startswith("calls=") and callee:
        calls[callee] = calls.get(callee, 0) + int(line.split("=")[1].split()[0])
def count(*want):
    return sum(n for f, n in calls.items() if f.split("'")[0] in want)
print(f"per-message: {conns} connections x window {window} x {size} B, {echoes:,} echoes while counted")
print(f"  user-space instructions per echo: {total / echoes:,.0f}  ({total:,} in all)")
for label, fns in [("malloc calls", ("malloc", "calloc", "realloc", "posix_memalign")),
                   ("swift_allocObject", ("swift_allocObject",)),
                   ("swift_retain", ("swift_retain",)),
                   ("swift_release", ("swift_release",))]:
    n = count(*fns)
    print(f"  {label} per echo: {n / echoes:.3f}  ({n:,})")
EOF
