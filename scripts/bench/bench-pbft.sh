#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Committed transactions per second through N validators on this machine:
PBFT beside noops, in the same run. Each validator gets its own `weft load
--mode tx` client process (the connections split evenly), so every
validator receives and spreads client transactions; a transaction counts
once its RESPONSE SUCCESS came back, i.e. once its block is fsynced on the
validator that received it. Prints a Markdown table; writes
results/bench-pbft-<time>.md and the raw JSON of every client.

  scripts/bench/bench-pbft.sh [--validators N] [--connections C] [--window W] [--duration S]
                        [--batchsize B] [--consensus "pbft noops"] [--size BYTES]
    --validators N   validators vp0..vp<N-1> (default 4; f = (N-1)/3)
    --connections C  client connections in all (default 16)
    --window W       transactions in flight per connection (default 256)
    --duration S     measured seconds per run (default 10, after 2 s of warm-up)
    --batchsize B    pbft.general.batchsize and noops blockSize (default 500)
    --consensus L    the consenters to measure, in order (default "pbft noops")
    --size BYTES     transaction payload bytes (default 128)
    --tls            mutual TLS 1.3 on every link and client (certificates from gen-certs.sh; with
                     TLS, PBFT's VIEW-CHANGEs are signed)
    --view-change    after the measured run, SIGKILL the primary (vp0) and time the first commit in a
                     new view on vp1 (under a small load); PBFT only
Also measured: CPU µs per committed transaction (the validators' user + system CPU from /proc/PID/stat
over the measured seconds, summed, divided by the transactions committed in them: the load tools' CPU
is not counted), time to the full mesh, RSS per validator (mean and max of process_resident_memory_bytes
after the run), and summed over the validators: messages rejected by the overflow policy
(weft_messages_rejected_total: 0 with the default backpressure), backpressure pauses
(weft_ring_full_total), consenter sends to peers that had gone (weft_outbound_dropped_total: e.g.
answers to clients that ended) and PBFT's own drops (weft_pbft_messages_dropped_total: duplicates,
outside the watermarks, ...); one JSON object per consenter is appended to results/bench-pbft-scale.jsonl.
WEFT_BIN=path runs that binary instead of this tree's release build. Each validator listens on a port of
its own choosing (port 0), read from its ready file (--ready-file).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
n=4 conns=16 window=256 dur=10 batch=500 consensus="pbft noops" size=128 viewchange=0 tls=0
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "$1 must be a positive number, not '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --validators|--connections|--window|--duration|--batchsize|--consensus|--size) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --validators|--connections|--window|--duration|--batchsize|--size) positive "$1" "$2" ;;&
    --validators) n=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --duration) dur=$2; shift 2 ;;
    --batchsize) batch=$2; shift 2 ;;
    --consensus) consensus=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --view-change) viewchange=1; shift ;;
    --tls) tls=1; shift ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
[ "$conns" -ge "$n" ] || lib_die "--connections $conns: need at least one connection per validator ($n)"
root=$lib_root
# Set once, so that lib_start_peer does not run the build again for every validator.
WEFT_BIN=$(lib_weft)
bin=$WEFT_BIN
mkdir -p "$root/results"
stamp=$(date +%Y%m%d-%H%M%S)
out=$root/results/bench-pbft-$stamp.md
work=$(mktemp -d /tmp/weft-bench-pbft.XXXXXX)
# At exit, once the validators stopped: their data directories (hundreds of MB of ledger) go; logs and JSON stay.
lib_on_exit "find '$work' -mindepth 1 -maxdepth 1 -type d ! -name certs -exec rm -rf {} +"
tlsload=()
if [ $tls = 1 ]; then
  lib_validator_certs "$work/certs" "$n"
  tlsload=("${lib_load_tls[@]}")
fi
# The validators of the consenter being measured (lib.sh also stops them at exit).
pids=()
stop_peers() {
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  pids=()
}

# Starts vp0..vp<N-1> with consenter $1 (lib.sh); their ports in listen[] and ops[].
start_validators() {
  lib_start_validators "$work" "$1" "$n" "$batch" "$tls"
  pids=("${lib_validator_pids[@]}") listen=("${lib_validator_listen[@]}") ops=("${lib_validator_ops[@]}")
  mesh_s=$lib_mesh_seconds
}
metric() { lib_metric "$@"; }
# User + system CPU of the validators so far, in clock ticks (fields 14 and 15 of /proc/PID/stat).
validators_cpu_ticks() {
  local total=0 p fields
  for p in "${pids[@]}"; do
    fields=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    total=$((total + $(awk '{print $12 + $13}' <<<"$fields")))
  done
  echo "$total"
}
metric_sum() { lib_metric_sum "$@"; }

{
  echo "# PBFT beside noops, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$n validators on 127.0.0.1$([ $tls = 1 ] && echo ", TLS 1.3 on every link") ($(nproc) cores), $conns client connections in all (one weft load per validator)," \
       "window $window, payload $size B, batch $batch, ${dur} s measured."
  echo
  echo "| consenter | committed tx/s | p50 ms | p99 ms | CPU µs/tx | acknowledged | failed | height (vp0) | mesh s | RSS MB mean/max | rejected | ring-full pauses | sends to gone peers | PBFT drops | new view s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

per=$((conns / n))
for plugin in $consensus; do
  echo "bench-pbft: $plugin, $n validators" >&2
  start_validators "$plugin"
  loads=()
  for i in $(seq 0 $((n - 1))); do
    "$bin" load --mode tx --target "127.0.0.1:${listen[$i]}" -c "$per" -w "$window" -s "$size" -d "$dur" --warmup 2 \
      --id-prefix "bench-$plugin-$i" ${tlsload[@]+"${tlsload[@]}"} --json --quiet >"$work/$plugin-load$i.json" 2>"$work/$plugin-load$i.err" &
    loads+=($!)
    lib_track $!
  done
  sleep 2   # the load tools' warm-up: the CPU is counted over the measured seconds only
  cpu_from=$(validators_cpu_ticks)
  for p in "${loads[@]}"; do wait "$p" || true; done
  cpu_ticks=$(( $(validators_cpu_ticks) - cpu_from ))
  height=$(metric "${ops[0]}" weft_chain_height)
  rss=() dropped=0 pbftdropped=0 gone=0 paused=0
  for i in $(seq 0 $((n - 1))); do
    rss+=("$(metric "${ops[$i]}" process_resident_memory_bytes)")
    dropped=$((dropped + $(metric_sum "${ops[$i]}" weft_messages_rejected_total)))
    gone=$((gone + $(metric_sum "${ops[$i]}" weft_outbound_dropped_total)))
    paused=$((paused + $(metric_sum "${ops[$i]}" weft_ring_full_total)))
    pbftdropped=$((pbftdropped + $(metric_sum "${ops[$i]}" weft_pbft_messages_dropped_total)))
  done
  if [ "$plugin" = pbft ]; then   # the records log's fdatasyncs and bytes since start (warm-up included), summed
    rsyncs=0 rbytes=0
    for i in $(seq 0 $((n - 1))); do
      rsyncs=$((rsyncs + $(metric_sum "${ops[$i]}" weft_pbft_record_syncs_total)))
      rbytes=$((rbytes + $(metric_sum "${ops[$i]}" weft_pbft_record_bytes_total)))
    done
    echo "bench-pbft: records over the $n validators: $rsyncs fdatasyncs, $rbytes bytes" >&2
  fi
  newview=-
  if [ $viewchange = 1 ] && [ "$plugin" = pbft ]; then
    # The primary of view 0 dies; the time until vp1 commits in a higher view, under a small load on vp1.
    h0=$(metric "${ops[1]}" weft_chain_height)
    kill -KILL "${pids[0]}"
    killed_at=$(date +%s.%N)
    wait "${pids[0]}" 2>/dev/null || true   # reaped here, so bash does not report it as Killed
    "$bin" load --mode tx --target "127.0.0.1:${listen[1]}" -c 1 -w 8 -d 40 --warmup 0 --id-prefix "bench-vc" ${tlsload[@]+"${tlsload[@]}"} --quiet \
      >/dev/null 2>&1 &
    vcload=$!
    lib_track "$vcload"
    while :; do
      v=$(metric "${ops[1]}" weft_pbft_view); h=$(metric "${ops[1]}" weft_chain_height)
      if [ "${v:-0}" -ge 1 ] && [ "${h:-0}" -gt "${h0:-0}" ]; then
        newview=$(python3 -c "import time; print(f'{time.time() - $killed_at:.1f}')"); break
      fi
      python3 -c "import sys, time; sys.exit(time.time() - $killed_at > 40)" || { newview=">40"; break; }
      sleep 0.1
    done
    kill "$vcload" 2>/dev/null || true
    wait "$vcload" 2>/dev/null || true
  fi
  stop_peers
  python3 - "$plugin" "$height" "$work" "$n" "$mesh_s" "$dropped" "$newview" "$root/results/bench-pbft-scale.jsonl" "$tls" "$pbftdropped,$gone,$paused" "$cpu_ticks,$(getconf CLK_TCK),$dur" "${rss[@]}" >>"$out" <<'PY'
import json, sys
plugin, height, work, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cpu_ticks, clk_tck, dur = (int(x) for x in sys.argv[11].split(","))
mesh, dropped, newview, jsonl, tls, pbftdropped = sys.argv[5], int(sys.argv[6]), sys.argv[7], sys.argv[8], sys.argv[9], sys.argv[10]
pbftdropped, gone, paused = (int(x) for x in pbftdropped.split(","))
rss = [float(x) / 1e6 for x in sys.argv[12:] if x]
runs = []
for i in range(n):
    try:
        runs.append(json.load(open(f"{work}/{plugin}-load{i}.json")))
    except Exception:
        pass
rate = sum(r["msgs_per_s"] for r in runs)
acked = sum(r["received"] for r in runs)
failed = sum(r["errors"] for r in runs)
# The clients' percentiles, weighted by what each measured (an approximation of the merged histogram).
weight = sum(r["measured"] for r in runs) or 1
p50 = sum(r["p50_us"] * r["measured"] for r in runs) / weight / 1000
p99 = max((r["p99_us"] for r in runs), default=0) / 1000
cpu_us = cpu_ticks / clk_tck * 1e6 / (rate * dur) if rate > 0 else 0
rss_mean = sum(rss) / len(rss) if rss else 0
rss_max = max(rss, default=0)
print(f"| {plugin} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {cpu_us:.1f} | {acked:,} | {failed:,} | {height} | {mesh} | {rss_mean:.0f}/{rss_max:.0f} | {dropped} | {paused} | {gone} | {pbftdropped} | {newview} |")
with open(jsonl, "a") as f:
    f.write(json.dumps({"consenter": plugin, "validators": n, "tls": tls == "1", "tx_per_s": rate, "p50_ms": p50, "p99_ms": p99, "cpu_us_per_tx": cpu_us, "acknowledged": acked,
                        "failed": failed, "height": height, "mesh_s": float(mesh), "rss_mb_mean": rss_mean, "rss_mb_max": rss_max,
                        "dropped": dropped, "pbft_dropped": pbftdropped, "sends_to_gone_peers": gone, "ring_full_pauses": paused, "new_view_s": newview}) + "\n")
PY
done
echo >>"$out"
echo "p50: the clients' p50s weighted by their counts; p99: the worst client's p99. Raw output in $work." >>"$out"
cat "$out"
echo "bench-pbft: wrote $out" >&2
