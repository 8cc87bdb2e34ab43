#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Time to a new view: 4 PBFT validators on 127.0.0.1 under a steady load of
client transactions through vp1..vp3; the primary (vp0, or the primary of
the view in force if start-up already changed it) is killed (SIGKILL)
and the time from the kill to the first batch committed in the new view is
measured on the next replica, with the committed tx/s around it (the dip). Repeated
--tries times, each on a fresh cluster with the default timeouts
(pbft.general.timeout.request 2s, viewchange 2s). Prints a Markdown table
(median and max) and writes results/bench-viewchange-<time>.md.

  scripts/bench/bench-viewchange.sh [--tries 10] [--rate 3000] [--set KEY=VALUE]...
    --tries N   clusters to kill the primary of (default 10)
    --rate R    client transactions per second in all, open loop (default 3000)
    --set K=V   any config key for every validator (repeatable)
WEFT_BIN=path runs that binary instead of this tree's release build. Each validator listens on a port of
its own choosing (port 0), read from its ready file (--ready-file).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
tries=10 rate=3000
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tries|--rate|--set) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --tries|--rate) [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "$1 must be a positive number, not '$2'" ;;&
    --tries) tries=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
root=$lib_root
# Set once, so that lib_start_peer does not run the build again for every validator.
WEFT_BIN=$(lib_weft)
bin=$WEFT_BIN
mkdir -p "$root/results"
out=$root/results/bench-viewchange-$(date +%Y%m%d-%H%M%S).md
work=$(mktemp -d /tmp/weft-bench-vc.XXXXXX)
# The validators and clients of the try in progress (lib.sh also stops them, and the measurement, at exit).
pids=()
stop_all() {
  if [ ${#pids[@]} -gt 0 ]; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  pids=()
}

for try in $(seq 1 "$tries"); do
  listen=() ops=()
  for i in 0 1 2 3; do
    # Port 0: lib_start_peer reads the ports from the ready file (vp0's is the others' root node).
    args=(--peer-id "vp$i" --ops-listen 127.0.0.1:0
          --data-dir "$work/$try/vp$i" --consensus pbft --log-level info --set peer.discovery.persist=false
          --set pbft.general.batchsize=100 --set pbft.general.timeout.batch=50ms ${extra[@]+"${extra[@]}"})
    [ "$i" -gt 0 ] && args+=(--root-node "127.0.0.1:${listen[0]}")
    lib_start_peer "$work/$try-vp$i.log" "${args[@]}"
    pids+=("$lib_peer_pid") listen+=("$lib_peer_port") ops+=("$lib_peer_ops_port")
  done
  for i in 1 2 3; do
    "$bin" load --mode tx --target "127.0.0.1:${listen[$i]}" -c 2 --rate "$((rate / 3))" -d 150 --warmup 0 --reconnect \
      --id-prefix "vc$try-$i" --quiet --json >"$work/$try-load$i.json" 2>/dev/null &
    pids+=($!)
    lib_track $!
  done
  # In the background and waited for, so that SIGTERM stops the run at once rather than after it.
  python3 - "${pids[0]}" "${pids[1]}" "${pids[2]}" "${pids[3]}" "${ops[0]}" "${ops[1]}" "${ops[2]}" "${ops[3]}" >>"$work/results.txt" <<'PY' &
import os, signal, sys, time, urllib.request
validators, all_ops = [int(p) for p in sys.argv[1:5]], sys.argv[5:9]
def metrics(port):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
    except Exception:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and " " in line:
            k, v = line.rsplit(" ", 1)
            try: out[k] = float(v)
            except ValueError: pass
    return out
def height(m): return m.get("weft_chain_height", 0)
# Wait for the mesh and a steady load: every backup committing.
deadline = time.time() + 120
while time.time() < deadline:
    ms = [metrics(p) for p in all_ops]
    if all(height(m) >= 20 for m in ms): break
    time.sleep(0.1)
else:
    print("FAIL no steady commits before the kill"); sys.exit(0)
# The primary of the view in force (a view change may already have happened
# at start-up); the measuring replica is the next one.
start_view = int(max(metrics(p).get("weft_pbft_view", 0) for p in all_ops))
primary = int(start_view % 4)
ops = [all_ops[(primary + k) % 4] for k in (1, 2, 3)]
# Committed tx/s before the kill, over one second.
t0, h0 = time.time(), metrics(ops[0]).get("weft_pbft_transactions_executed_total", 0)
time.sleep(1)
before = (metrics(ops[0]).get("weft_pbft_transactions_executed_total", 0) - h0) / (time.time() - t0)
os.kill(validators[primary], signal.SIGKILL)
killed = time.time()
view_at = commit_at = None
seq_at_view = None
samples = []
while time.time() - killed < 60:
    m = metrics(ops[0])
    now = time.time() - killed
    samples.append((now, m.get("weft_pbft_transactions_executed_total", 0)))
    if view_at is None and m.get("weft_pbft_view", 0) > start_view:
        view_at, seq_at_view = now, m.get("weft_pbft_sequence_executed", 0)
    if view_at is not None and m.get("weft_pbft_sequence_executed", 0) > seq_at_view:
        commit_at = now
        break
    time.sleep(0.01)
if commit_at is None:
    print("FAIL no commit in a new view within 60 s"); sys.exit(0)
# Committed tx/s in the 3 s after the first commit in the new view.
t1, x1 = time.time(), metrics(ops[0]).get("weft_pbft_transactions_executed_total", 0)
time.sleep(3)
after = (metrics(ops[0]).get("weft_pbft_transactions_executed_total", 0) - x1) / (time.time() - t1)
print(f"OK {view_at:.3f} {commit_at:.3f} {before:.0f} {after:.0f}")
PY
  measure=$!
  lib_track "$measure"
  wait "$measure"
  tail -1 "$work/results.txt" | sed "s/^/bench-viewchange: try $try: /" >&2
  stop_all
done

python3 - "$work/results.txt" "$tries" "$rate" >"$out" <<'PY'
import statistics, sys, datetime
path, tries, rate = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.split() for l in open(path) if l.strip()]
ok = [r for r in rows if r[0] == "OK"]
print(f"# Time to a new view, {datetime.datetime.utcnow():%Y-%m-%dT%H:%MZ}\n")
print(f"4 PBFT validators on 127.0.0.1, default timeouts (request 2 s, view change 2 s), batch 100 / 50 ms,")
print(f"{rate} tx/s offered through vp1..vp3; the primary killed with SIGKILL; measured on the next replica. {len(ok)} of {tries} tries committed in a new view.\n")
if ok:
    view = [float(r[1]) for r in ok]; commit = [float(r[2]) for r in ok]
    before = [float(r[3]) for r in ok]; after = [float(r[4]) for r in ok]
    print("| | median | max |\n|---|---:|---:|")
    print(f"| kill → new view installed (s) | {statistics.median(view):.2f} | {max(view):.2f} |")
    print(f"| kill → first commit in the new view (s) | {statistics.median(commit):.2f} | {max(commit):.2f} |")
    print(f"| committed tx/s, the second before the kill | {statistics.median(before):,.0f} | {max(before):,.0f} |")
    print(f"| committed tx/s, the 3 s after the first new-view commit | {statistics.median(after):,.0f} | {max(after):,.0f} |")
    print("\nPer try (s to new view, s to first commit):", ", ".join(f"{float(r[1]):.2f}/{float(r[2]):.2f}" for r in ok))
fails = [r for r in rows if r[0] != "OK"]
if fails: print("\nFailed tries:", "; ".join(" ".join(r) for r in fails))
PY
cat "$out"
echo "bench-viewchange: wrote $out (logs in $work)" >&2
