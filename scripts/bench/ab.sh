#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
An interleaved A/B of two weft builds against the C reference peer of
../shared/bench, driven by its C loadgen: every round runs A, B and refpeer
one after the other, each freshly started, so that the machine's noise hits
all three alike. Prints each round and the median ratios.

  scripts/bench/ab.sh A_BINARY B_BINARY [--rounds N] [-d SECONDS] [-c C -w W -s S]
    defaults: 6 rounds, 5 s runs after 1 s of warm-up, 16 connections x window 8 x 128 B

WEFT_SHARED=path names the shared folder (default ../shared).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
[ $# -ge 2 ] || lib_die "needs two weft binaries"
a_bin=$1 b_bin=$2; shift 2
rounds=6 dur=5 conns=16 window=8 size=128
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds|-d|-c|-w|-s) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
        --rounds) rounds=$2; shift 2 ;;
        -d) dur=$2; shift 2 ;;
        -c) conns=$2; shift 2 ;;
        -w) window=$2; shift 2 ;;
        -s) size=$2; shift 2 ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
for bin in "$a_bin" "$b_bin"; do [ -x "$bin" ] || lib_die "'$bin' is not an executable"; done
shared=${WEFT_SHARED:-$lib_root/../shared}
make -s -C "$shared/bench" OUT="$lib_root/.build-bench" >&2
loadgen=$lib_root/.build-bench/loadgen refpeer=$lib_root/.build-bench/refpeer
work=$(mktemp -d /tmp/weft-ab.XXXXXX)
lib_on_exit "rm -rf '$work'"

run_load() {   # port -> msgs/s
    timeout $((dur + 30)) "$loadgen" --target "127.0.0.1:$1" -c "$conns" -w "$window" -s "$size" -d "$dur" --warmup 1 \
        --id-prefix ab 2>/dev/null | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["msgs_per_s"]))'
}
run_weft() {   # binary name -> msgs/s
    WEFT_BIN=$1 lib_start_peer "$work/$2.log" --peer-id "ab-$2" --ops-listen "" --data-dir "$work/$2" \
        --consensus echo --log-level info --set peer.discovery.persist=false
    local pid=$lib_peer_pid
    run_load "$lib_peer_port"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}
run_ref() {
    lib_start_server "$work/ref.log" "$refpeer" -q --listen 127.0.0.1:0
    local pid=$lib_server_pid
    run_load "$lib_server_port"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

echo "round,a,b,refpeer" >"$work/ab.csv"
for round in $(seq 1 "$rounds"); do
    # Alternate which build goes first, so neither always runs on a warmer machine.
    if [ $((round % 2)) = 1 ]; then a=$(run_weft "$a_bin" a); b=$(run_weft "$b_bin" b); else b=$(run_weft "$b_bin" b); a=$(run_weft "$a_bin" a); fi
    ref=$(run_ref)
    echo "$round,$a,$b,$ref" >>"$work/ab.csv"
    echo "ab: round $round: A $a  B $b  refpeer $ref msgs/s" >&2
done
python3 - "$work/ab.csv" "$conns" "$window" "$size" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
c, w, s = sys.argv[2:]
print(f"| round | A msgs/s | B msgs/s | refpeer msgs/s | A/ref | B/ref | B/A |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    a, b, ref = int(r["a"]), int(r["b"]), int(r["refpeer"])
    print(f"| {r['round']} | {a} | {b} | {ref} | {a/ref:.2f} | {b/ref:.2f} | {b/a:.3f} |")
med = lambda k: statistics.median(k)
ar = [int(r["a"]) / int(r["refpeer"]) for r in rows]; br = [int(r["b"]) / int(r["refpeer"]) for r in rows]
ba = [int(r["b"]) / int(r["a"]) for r in rows]
print(f"\n{len(rows)} rounds, {c} x {w} x {s} B, C loadgen: median A/ref {med(ar):.2f}, B/ref {med(br):.2f}, B/A {med(ba):.3f}")
PY
