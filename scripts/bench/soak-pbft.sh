#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
PBFT memory soak: four validators under a steady open-loop transaction load
for a while, sampling every validator's RSS, open descriptors, threads and
chain height every 10 s; RSS must stay flat.

  scripts/bench/soak-pbft.sh [MINUTES] [--rate R] [--tls] [--out DIR]
    MINUTES      how long the load runs (default 30)
    --rate R     transactions per second in all, open loop, split evenly over
                 one `weft load --mode tx` per validator (default 5000)
    --tls        mutual TLS 1.3 on every link and client (certificates from
                 gen-certs.sh, as bench-pbft.sh --tls makes them)
    --out DIR    where samples.csv, rss.png, the logs and the clients' JSON go
                 (default results/soak-pbft-<time>)

The validators start as bench-pbft.sh starts them (lib_start_validators:
batch 500, 128-byte payloads). Writes samples.csv (seconds, validator,
rss_kib, rss_anon_kib, fds, threads, height, view, outstanding: PBFT's
requests not yet executed, the backlog when the cluster falls behind the
offered rate), rss.png (RSS per validator against time; /usr/bin/python3
with matplotlib) and prints a verdict per validator: after minute 5 (the
middle of the run when it is shorter than 10 minutes), RSS may not exceed
1.2x its value then. Exit 1 when growing (or when a
validator died). Bounded: the load ends after MINUTES and every process
started here is stopped at exit. WEFT_BIN=path runs that binary instead of
this tree's release build; WEFT_SOAK_SET="key=value ..." adds --set options
to every validator (e.g. pbft.general.txidwindow=100000).
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

minutes=30 rate=5000 tls=0 out= n=4 batch=500 size=128
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || lib_die "--out needs a directory"; out=$2; shift 2 ;;
        --rate) [ $# -ge 2 ] || lib_die "--rate needs a value"
                [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--rate must be a positive whole number, not '$2'"
                rate=$2; shift 2 ;;
        --tls) tls=1; shift ;;
        [0-9]*) [[ "$1" =~ ^[0-9]+$ ]] || lib_die "minutes must be a whole number, not '$1'"; minutes=$1; shift ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
[ "$minutes" -gt 0 ] || lib_die "minutes must be at least 1"
out=${out:-$lib_root/results/soak-pbft-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Set once, so that lib_start_peer does not run the build again for every validator.
WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN

load_tls=()
if [ $tls = 1 ]; then
    lib_validator_certs "$out/certs" "$n"
    load_tls=("${lib_load_tls[@]}")
fi
extra=()
for kv in ${WEFT_SOAK_SET:-}; do extra+=(--set "$kv"); done
lib_start_validators "$out" pbft "$n" "$batch" "$tls" ${extra[@]+"${extra[@]}"}
pids=("${lib_validator_pids[@]}") listen=("${lib_validator_listen[@]}") ops=("${lib_validator_ops[@]}")
echo "soak-pbft: $n validators meshed in $lib_mesh_seconds s; $rate tx/s for $minutes min$([ $tls = 1 ] && echo ', TLS')" >&2

# One open-loop client per validator, for the whole run (4 connections each, up to 256 in flight on each).
per_rate=$(python3 -c "print($rate / $n)")
for i in $(seq 0 $((n - 1))); do
    "$weft" load --mode tx --target "127.0.0.1:${listen[$i]}" -c 4 -w 256 -s "$size" --rate "$per_rate" \
        -d $((minutes * 60)) --warmup 0 --id-prefix "soak-$i" ${load_tls[@]+"${load_tls[@]}"} --json --quiet \
        >"$out/load$i.json" 2>"$out/load$i.err" &
    lib_track $!
done

sample() {
    local t=$1 i pid rss anon fds threads height view outstanding
    for i in $(seq 0 $((n - 1))); do
        pid=${pids[$i]}
        kill -0 "$pid" 2>/dev/null || { echo "soak-pbft: vp$i exited at ${t} s: $(tail -3 "$out/pbft-vp$i.log")" >&2; return 1; }
        rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
        anon=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
        fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
        threads=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)
        height=$(lib_metric "${ops[$i]}" weft_chain_height)
        view=$(lib_metric "${ops[$i]}" weft_pbft_view)
        outstanding=$(lib_metric "${ops[$i]}" weft_pbft_requests_outstanding)
        echo "$t,vp$i,$rss,$anon,$fds,$threads,${height:-0},${view:-0},${outstanding:-0}" >>"$out/samples.csv"
        printf "soak-pbft: %5ds  vp%d  rss %7d KiB  anon %7d KiB  fds %4d  threads %3d  height %s  view %s  outstanding %s\n" \
            "$t" "$i" "$rss" "$anon" "$fds" "$threads" "${height:-?}" "${view:-?}" "${outstanding:-?}" >&2
    done
}

echo "seconds,validator,rss_kib,rss_anon_kib,fds,threads,height,view,outstanding" >"$out/samples.csv"
start=$SECONDS end=$((SECONDS + minutes * 60)) next=0 alive=1
while [ $SECONDS -le $end ]; do
    t=$((SECONDS - start))
    if [ $t -ge $next ]; then
        sample "$t" || { alive=0; break; }
        next=$((next + 10))
    fi
    sleep 1     # the sampling tick, not a wait for a state
done
# The clients end on their own after MINUTES (for their summaries); then lib.sh stops the validators at exit
# (and the clients too, when a validator died).
if [ $alive = 1 ]; then
    for pid in $(jobs -p); do
        case " ${pids[*]} " in *" $pid "*) ;; *) wait "$pid" 2>/dev/null || true ;; esac
    done
fi

verdict=0
python3 - "$out" "$n" "$rate" "$alive" <<'PY' || verdict=$?
import csv, json, sys
out, n, rate, alive = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
acked = failed = 0
for i in range(n):
    try:
        r = json.load(open(f"{out}/load{i}.json"))
        acked += r.get("received", 0); failed += r.get("errors", 0)
    except Exception:
        pass
last = max((int(r["seconds"]) for r in rows), default=0)
base_t = 300 if last >= 600 else last // 2
print(f"soak-pbft: {last} s at {rate} tx/s offered; {acked:,} acknowledged ({acked / max(last, 1):,.0f}/s), {failed} failed")
ok = alive
for v in sorted({r["validator"] for r in rows}):
    mine = [r for r in rows if r["validator"] == v]
    base = next((r for r in mine if int(r["seconds"]) >= base_t), mine[-1])
    after = [int(r["rss_kib"]) for r in mine if int(r["seconds"]) >= int(base["seconds"])]
    b, top, end = int(base["rss_kib"]), max(after), after[-1]
    fds = [int(r["fds"]) for r in mine if int(r["seconds"]) >= int(base["seconds"])]
    flat = top <= b * 1.2
    ok = ok and flat
    print(f"soak-pbft: {v}: RSS at {base['seconds']} s {b / 1024:.1f} MiB, max after {top / 1024:.1f} MiB "
          f"({top / b:.2f}x), at the end {end / 1024:.1f} MiB; descriptors {fds[0]} -> {fds[-1]}; "
          f"height {mine[-1]['height']}, view {mine[-1].get('view', '?')}, "
          f"most requests outstanding {max(int(r.get('outstanding') or 0) for r in mine):,}: {'flat' if flat else 'GROWING'}")
print("soak-pbft: FLAT" if ok else "soak-pbft: GROWING" if alive else "soak-pbft: A VALIDATOR DIED")
sys.exit(0 if ok else 1)
PY
/usr/bin/python3 - "$out" "$rate" "$tls" <<'PY' || echo "soak-pbft: no plot (/usr/bin/python3 lacks matplotlib: apt-get install python3-matplotlib)" >&2
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
out, rate, tls = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
fig, ax = plt.subplots(figsize=(9, 4.5))
for v in sorted({r["validator"] for r in rows}):
    mine = [r for r in rows if r["validator"] == v]
    ax.plot([int(r["seconds"]) / 60 for r in mine], [int(r["rss_kib"]) / 1024 for r in mine], label=v)
ax.axhline(64, color="grey", linestyle="--", linewidth=0.8, label="64 MiB")
ax.set_xlabel("minutes"); ax.set_ylabel("RSS MiB"); ax.set_ylim(bottom=0)
ax.set_title(f"PBFT, 4 validators, {rate} tx/s open loop{', TLS' if tls else ''}: RSS per validator")
ax.legend(loc="lower right"); ax.grid(alpha=0.3)
fig.tight_layout(); fig.savefig(f"{out}/rss.png", dpi=100)
print(f"soak-pbft: wrote {out}/rss.png", file=sys.stderr)
PY
echo "soak-pbft: samples in $out/samples.csv" >&2
exit $verdict
