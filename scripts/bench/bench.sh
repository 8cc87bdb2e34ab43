#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
The benchmark of record: Weft against the reference servers of
../shared/bench in the same run, on this machine, driven by the same load
generators (the independent C loadgen, and weft load). Prints a table and
the ratios; writes results/bench-<time>.{md,jsonl}.

  scripts/bench/bench.sh [--quick] [--rounds N] [--no-nio] [--tx]
    --quick     1 s runs instead of 5 s
    --rounds N  repeat the matrix N times, servers interleaved (default 1); the best
                run of each server and config is reported (noise only slows runs down)
    --no-nio    skip the SwiftNIO peer (its first build takes ~2 minutes)
    --tx        also measure noops tx/s (blockSize 500, fsync per block)

Servers: weft (echo consenter), refpeer (C: epoll + SPSC rings, the near-limit
for this design), nio-peer (SwiftNIO + swift-protobuf + DispatchQueue).
Configs: 16 connections x window 8 x 128 B; 1 connection x window 1 x 128 B.
Each server listens on a port of its own choosing (port 0), read from its ready file (weft) or its log (the other servers).
WEFT_BIN=path benchmarks that binary instead of this tree's release build;
WEFT_SHARED=path names the shared folder (default ../shared).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

dur=5 rounds=1 nio=1 tx=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) dur=1; shift ;;
    --rounds) [ $# -ge 2 ] || lib_die "--rounds needs a number"
              [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--rounds must be a positive number, not '$2'"
              rounds=$2; shift 2 ;;
    --no-nio) nio=0; shift ;;
    --tx) tx=1; shift ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
root=$lib_root
shared=${WEFT_SHARED:-$root/../shared}
cd "$root"
echo "bench: building (release)" >&2
# Set here, so that lib_start_peer does not run the build again for every start.
WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN
make -s -C "$shared/bench" OUT="$root/.build-bench" >&2
[ $nio = 1 ] && swift build -c release --package-path "$shared/bench/nio-peer" --scratch-path "$root/.build-nio" >&2
loadgen=$root/.build-bench/loadgen
mkdir -p results
stamp=$(date +%Y%m%d-%H%M%S)
work=$(mktemp -d)
lib_on_exit "rm -rf '$work'"

server_pid='' port=''
start_server() {   # name; sets server_pid and port
  case "$1" in
    # Port 0: lib_start_peer reads the port from the ready file; info logs each connection once, at the handshake.
    weft) lib_start_peer "$work/weft.log" --peer-id bench --ops-listen "" --data-dir "$work/weft" \
            --consensus echo --log-level info --set peer.discovery.persist=false
          server_pid=$lib_peer_pid port=$lib_peer_port ;;
    refpeer) lib_start_server "$work/refpeer.log" "$root/.build-bench/refpeer" -q --listen 127.0.0.1:0
             server_pid=$lib_server_pid port=$lib_server_port ;;
    nio) lib_start_server "$work/nio.log" "$root/.build-nio/release/nio-peer" --listen 127.0.0.1:0
         server_pid=$lib_server_pid port=$lib_server_port ;;
  esac
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

servers=(weft refpeer); [ $nio = 1 ] && servers+=(nio)
configs=("16 8 128" "1 1 128")
results=$work/results.jsonl
for round in $(seq 1 "$rounds"); do
  for server in "${servers[@]}"; do
    start_server "$server"
    rss_pid=$server_pid
    for cfg in "${configs[@]}"; do
      read -r c w s <<<"$cfg"
      out=$(timeout $((dur + 30)) "$loadgen" --target "127.0.0.1:$port" -c "$c" -w "$w" -s "$s" -d "$dur" --warmup 1 --id-prefix lg 2>/dev/null || echo '{}')
      echo "{\"round\":$round,\"server\":\"$server\",\"driver\":\"loadgen\",\"cfg\":\"$c x $w x $s\",\"result\":$out}" >>"$results"
      out=$(timeout $((dur + 30)) "$weft" load --target "127.0.0.1:$port" -c "$c" -w "$w" -s "$s" -d "$dur" --warmup 1 --json --quiet --id-prefix wl 2>/dev/null || echo '{}')
      echo "{\"round\":$round,\"server\":\"$server\",\"driver\":\"weft-load\",\"cfg\":\"$c x $w x $s\",\"result\":$out}" >>"$results"
      echo "bench: round $round $server $cfg done" >&2
    done
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$rss_pid/status" 2>/dev/null || echo 0)
    echo "{\"round\":$round,\"server\":\"$server\",\"driver\":\"rss\",\"cfg\":\"peak\",\"result\":{\"peak_rss_kib\":${rss:-0}}}" >>"$results"
    stop_server
  done
done

if [ $tx = 1 ]; then
  lib_start_peer "$work/tx.log" --peer-id bench-tx --ops-listen "" --data-dir "$work/tx" \
     --consensus noops --log-level info --set peer.discovery.persist=false
  server_pid=$lib_peer_pid port=$lib_peer_port
  out=$("$weft" load --target "127.0.0.1:$port" --mode tx -c 16 -w 64 -s 128 -d "$dur" --warmup 1 --json --quiet || echo '{}')
  echo "{\"round\":1,\"server\":\"weft-noops\",\"driver\":\"weft-load-tx\",\"cfg\":\"16 x 64 x 128\",\"result\":$out}" >>"$results"
  stop_server
fi

cp "$results" "results/bench-$stamp.jsonl"
python3 - "$results" "results/bench-$stamp.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
best = {}
for r in rows:
    key = (r["server"], r["driver"], r["cfg"])
    res = r["result"]
    if "msgs_per_s" in res:
        if key not in best or res["msgs_per_s"] > best[key]["msgs_per_s"]:
            best[key] = res
    elif "peak_rss_kib" in res:
        best[key] = res
out = ["| server | driver | config | msgs/s | p50 us | p99 us | p99.9 us |", "|---|---|---|---:|---:|---:|---:|"]
for (s, d, c), r in sorted(best.items()):
    if "msgs_per_s" in r:
        out.append(f"| {s} | {d} | {c} | {r['msgs_per_s']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {r['p999_us']:.1f} |")
out.append("")
out.append("| server | peak RSS |")
out.append("|---|---:|")
for (s, d, c), r in sorted(best.items()):
    if "peak_rss_kib" in r:
        out.append(f"| {s} | {r['peak_rss_kib']/1024:.1f} MiB |")
out.append("")
def get(s, d, c, k):
    r = best.get((s, d, c), {})
    return r.get(k)
for d in ("loadgen", "weft-load"):
    ref = get("refpeer", d, "16 x 8 x 128", "msgs_per_s"); w = get("weft", d, "16 x 8 x 128", "msgs_per_s")
    nio = get("nio", d, "16 x 8 x 128", "msgs_per_s")
    if ref and w:
        out.append(f"- {d}, 16x8x128: weft/refpeer throughput = **{w/ref:.2f}** (target >= 0.80)"
                   + (f"; weft/nio = **{w/nio:.2f}** (target >= 1.5)" if nio else ""))
        rp99 = get("refpeer", d, "16 x 8 x 128", "p99_us"); wp99 = get("weft", d, "16 x 8 x 128", "p99_us")
        out.append(f"- {d}, 16x8x128: weft/refpeer p99 = **{wp99/rp99:.2f}** (target <= 1.5)")
    rp50 = get("refpeer", d, "1 x 1 x 128", "p50_us"); wp50 = get("weft", d, "1 x 1 x 128", "p50_us")
    if rp50 and wp50:
        out.append(f"- {d}, 1x1x128: weft/refpeer p50 = **{wp50/rp50:.2f}** (target <= 1.3)")
tx = [r for (s, d, c), r in best.items() if s == "weft-noops"]
if tx:
    out.append(f"- noops tx/s (blockSize 500, fsync per block, 16 x 64): **{tx[0]['msgs_per_s']:.0f}**, p99 {tx[0]['p99_us']:.0f} us")
text = "\n".join(out)
open(sys.argv[2], "w").write(text + "\n")
print(text)
PY
echo "bench: results in results/bench-$stamp.{jsonl,md}" >&2
