#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Soak: load plus churn against a peer for a while, sampling its RSS and
descriptor count every 10 s; both must stay flat.

  scripts/bench/soak.sh [MINUTES] [--out DIR]      MINUTES defaults to 10

Peer A (echo consenter) takes a steady closed-loop load (8 connections x
window 4); every 5 s a burst of 32 short-lived connections opens, echoes and
closes; peer B, meshed with A, is restarted every 60 s. Writes samples.csv
(and the peers' logs) to DIR (default results/soak-<time>) and prints a
verdict: after the first minute (warm-up), RSS may not grow more than 20%
and open descriptors may not grow by more than 8. Exit 1 when growing.
WEFT_BIN=path runs that binary instead of this tree's release build.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

minutes=10 out=
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || lib_die "--out needs a directory"; out=$2; shift 2 ;;
        [0-9]*) [[ "$1" =~ ^[0-9]+$ ]] || lib_die "minutes must be a whole number, not '$1'"; minutes=$1; shift ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
[ "$minutes" -gt 0 ] || lib_die "minutes must be at least 1"
out=${out:-$lib_root/results/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
# Set once, so that lib_start_peer does not run the build again at every restart of peer B.
WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN

lib_start_peer "$out/a.log" --peer-id soak-a --ops-listen "" --consensus echo --data-dir "$out/a" --log-level info
a_pid=$lib_peer_pid pa=$lib_peer_port
b_pid=
start_b() {
    lib_start_peer "$out/b.log" --peer-id soak-b --ops-listen "" --consensus echo --data-dir "$out/b" \
        --root-node "127.0.0.1:$pa" --log-level info
    b_pid=$lib_peer_pid
}
start_b
end=$((SECONDS + minutes * 60))
# steady load, in 60 s runs until the end
( while [ $SECONDS -lt $end ]; do
    "$weft" load --target "127.0.0.1:$pa" -c 8 -w 4 -d 60 --warmup 0 --quiet --json --id-prefix steady \
        >>"$out/steady.jsonl" 2>>"$out/load.err" || true
  done ) &
lib_track $!
echo "seconds,rss_kib,fds,threads" >"$out/samples.csv"
next_sample=0 next_churn=5 next_restart=60 start=$SECONDS
while [ $SECONDS -lt $end ]; do
    t=$((SECONDS - start))
    if [ $t -ge $next_sample ]; then
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$a_pid/status"); fds=$(find "/proc/$a_pid/fd" -mindepth 1 -maxdepth 1 | wc -l); th=$(find "/proc/$a_pid/task" -mindepth 1 -maxdepth 1 | wc -l)
        echo "$t,$rss,$fds,$th" >>"$out/samples.csv"
        printf "soak: %4ds  rss %6d KiB  fds %4d  threads %d\n" "$t" "$rss" "$fds" "$th" >&2
        next_sample=$((next_sample + 10))
    fi
    if [ $t -ge $next_churn ]; then
        "$weft" load --target "127.0.0.1:$pa" -c 32 -w 1 -d 1 --warmup 0 --quiet --json --id-prefix "churn-$t" \
            >/dev/null 2>>"$out/load.err" || true
        next_churn=$((next_churn + 5))
    fi
    if [ $t -ge $next_restart ]; then
        kill -TERM "$b_pid"; wait "$b_pid" 2>/dev/null || true
        start_b
        next_restart=$((next_restart + 60))
    fi
    sleep 1     # the sampling tick, not a wait for a state
done
python3 - "$out/samples.csv" "$out/steady.jsonl" <<'PY'
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
warm = [r for r in rows if int(r["seconds"]) >= 60] or rows
base, last = warm[0], warm[-1]
rss0, rss1, rssmax = int(base["rss_kib"]), int(last["rss_kib"]), max(int(r["rss_kib"]) for r in warm)
fd0, fd1, fdmax = int(base["fds"]), int(last["fds"]), max(int(r["fds"]) for r in warm)
try:
    runs = [json.loads(l) for l in open(sys.argv[2]) if l.strip().startswith("{")]
except FileNotFoundError:
    runs = []
echoes = sum(r.get("received", 0) for r in runs); errors = sum(r.get("errors", 0) for r in runs)
print(f"soak: {rows[-1]['seconds']} s; steady load echoed {echoes} messages, {errors} errors")
print(f"soak: RSS after warm-up {rss0} KiB -> {rss1} KiB (max {rssmax}); descriptors {fd0} -> {fd1} (max {fdmax})")
ok = rssmax <= rss0 * 1.2 and fdmax <= fd0 + 8
print("soak: FLAT" if ok else "soak: GROWING")
sys.exit(0 if ok else 1)
PY
