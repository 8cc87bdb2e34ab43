#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
What one echoed message costs the peer in user space: instructions, heap
allocations and reference-count operations, counted by callgrind while
`weft load` drives the echo consenter (the kernel's share is not counted;
see docs/BENCHMARKS.md for the syscalls per message).

  scripts/bench/per-message.sh [-c CONNECTIONS] [-w WINDOW] [-d SECONDS] [-s BYTES] [--peer BINARY]
    defaults: -c 4 -w 8 -d 5 -s 128 (the peer runs ~50x slower under valgrind)
    --peer: count another weft build (an A/B); default: $WEFT_BIN, else this tree's release build

The peer binary is run without its debug sections: valgrind 3.19 cannot read
Swift's DWARF 5; the symbol table stays, so functions keep their names.
Instrumentation is switched on only while the load runs, so start-up and
shut-down are not counted. Needs valgrind (installed with apt-get if missing
and root). KEEP=path keeps the callgrind output there.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
cd "$lib_root"

conns=4 window=8 secs=5 size=128 peer_binary=
while [ $# -gt 0 ]; do
    case "$1" in
        -c|-w|-d|-s|--peer) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
        -c) conns=$2; shift 2 ;;
        -w) window=$2; shift 2 ;;
        -d) secs=$2; shift 2 ;;
        -s) size=$2; shift 2 ;;
        --peer) peer_binary=$2; shift 2 ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq valgrind >/dev/null
    else
        echo "per-message: valgrind is not installed (apt-get install valgrind)" >&2; exit 1
    fi
fi

WEFT_BIN=$(lib_weft)                   # the load generator (and the peer unless --peer); built once
weft=$WEFT_BIN
work=$(mktemp -d /tmp/weft-per-message.XXXXXX)
lib_on_exit "[ -n \"\${KEEP:-}\" ] && cp '$work/callgrind.out' \"\$KEEP\"; rm -rf '$work'"
cp "${peer_binary:-$weft}" "$work/weft"
strip --strip-debug "$work/weft"

# Port 0: the peer's ready file (JSON, not the log) says which port it got.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$work/weft" node start --peer-id per-message --listen 127.0.0.1:0 --ops-listen "" --ready-file "$work/ready.json" \
    --data-dir "$work/data" --consensus echo --log-level info --set peer.discovery.persist=false \
    2>"$work/valgrind.log" &
peer=$!
lib_track "$peer"
port=
read_port() { port=$(sed -n 's/.*"listen":"[^"]*:\([0-9][0-9]*\)".*/\1/p' "$work/ready.json" 2>/dev/null); [ -n "$port" ]; }
lib_wait_for 60 read_port || { tail -5 "$work/valgrind.log" >&2; echo "per-message: the peer did not start" >&2; exit 1; }

callgrind_control -i on "$peer" >/dev/null
"$weft" load --target "127.0.0.1:$port" -c "$conns" -w "$window" -s "$size" \
    -d "$secs" --warmup 0 --json >"$work/load.json"
callgrind_control -i off "$peer" >/dev/null
kill -TERM "$peer"; wait "$peer" || true

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
