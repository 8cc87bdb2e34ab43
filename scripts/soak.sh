#!/usr/bin/env bash
# Soak: load plus churn against a peer for a while, sampling its RSS and
# descriptor count every 10 s; both must stay flat.
#   scripts/soak.sh [minutes=10] [--out DIR]
# Peer A (echo consenter) takes a steady closed-loop load (8 connections x
# window 4); every 5 s a burst of 32 short-lived connections opens, echoes and
# closes; peer B, meshed with A, is restarted every 60 s. Writes samples.csv
# and prints a verdict: after the first minute (warm-up), RSS may not grow
# more than 20% and open descriptors may not grow by more than 8.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}; shift || true
out=$root/results/soak-$(date +%Y%m%d-%H%M%S)
[ "${1:-}" = "--out" ] && out=$2
mkdir -p "$out"
swift build -c release --package-path "$root" >&2
weft=$root/.build/release/weft
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(free_port); pb=$(free_port)
start_a() { "$weft" node start --peer-id soak-a --listen 127.0.0.1:$pa --ops-listen "" --consensus echo --data-dir "$out/a" --log-level warning 2>>"$out/a.log" & a_pid=$!; }
start_b() { "$weft" node start --peer-id soak-b --listen 127.0.0.1:$pb --ops-listen "" --consensus echo --data-dir "$out/b" --root-node 127.0.0.1:$pa --log-level warning 2>>"$out/b.log" & b_pid=$!; }
pids=()
cleanup() { kill -TERM $a_pid $b_pid "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
start_a; sleep 0.5; start_b
end=$((SECONDS + minutes * 60))
# steady load, in 60 s runs until the end
( while [ $SECONDS -lt $end ]; do "$weft" load --target 127.0.0.1:$pa -c 8 -w 4 -d 60 --warmup 0 --quiet --json --id-prefix steady >>"$out/steady.jsonl" 2>>"$out/load.err" || true; done ) &
pids+=($!)
echo "seconds,rss_kib,fds,threads" >"$out/samples.csv"
next_sample=0 next_churn=5 next_restart=60 start=$SECONDS
while [ $SECONDS -lt $end ]; do
  t=$((SECONDS - start))
  if [ $t -ge $next_sample ]; then
    rss=$(awk '/VmRSS/ {print $2}' /proc/$a_pid/status); fds=$(ls /proc/$a_pid/fd | wc -l); th=$(ls /proc/$a_pid/task | wc -l)
    echo "$t,$rss,$fds,$th" >>"$out/samples.csv"
    printf "soak: %4ds  rss %6d KiB  fds %4d  threads %d\n" "$t" "$rss" "$fds" "$th" >&2
    next_sample=$((next_sample + 10))
  fi
  if [ $t -ge $next_churn ]; then
    "$weft" load --target 127.0.0.1:$pa -c 32 -w 1 -d 1 --warmup 0 --quiet --json --id-prefix churn-$t >/dev/null 2>>"$out/load.err" || true
    next_churn=$((next_churn + 5))
  fi
  if [ $t -ge $next_restart ]; then
    kill -TERM $b_pid; wait $b_pid 2>/dev/null || true; start_b
    next_restart=$((next_restart + 60))
  fi
  sleep 1
done
python3 - "$out/samples.csv" "$out/steady.jsonl" <<'PY'
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
warm = [r for r in rows if int(r["seconds"]) >= 60] or rows
base, last = warm[0], warm[-1]
rss0, rss1, rssmax = int(base["rss_kib"]), int(last["rss_kib"]), max(int(r["rss_kib"]) for r in warm)
fd0, fd1, fdmax = int(base["fds"]), int(last["fds"]), max(int(r["fds"]) for r in warm)
runs = [json.loads(l) for l in open(sys.argv[2]) if l.strip().startswith("{")]
echoes = sum(r.get("received", 0) for r in runs); errors = sum(r.get("errors", 0) for r in runs)
print(f"soak: {rows[-1]['seconds']} s; steady load echoed {echoes} messages, {errors} errors")
print(f"soak: RSS after warm-up {rss0} KiB -> {rss1} KiB (max {rssmax}); descriptors {fd0} -> {fd1} (max {fdmax})")
ok = rssmax <= rss0 * 1.2 and fdmax <= fd0 + 8
print("soak: FLAT" if ok else "soak: GROWING")
sys.exit(0 if ok else 1)
PY
