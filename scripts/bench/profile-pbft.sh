#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF2'
A sampled profile of a PBFT primary and a backup under load: runs
scripts/bench/bench-pbft.sh (pbft only, the arguments after -- passed on),
and while it measures, `perf record` (DWARF call stacks) samples vp0 (the
primary of view 0) and vp1 (a backup). Writes, under results/:
  profile-<time>-vp0.png, -vp1.png   flame graphs (scripts/bench/flamegraph.py)
  profile-<time>-vp0.txt, -vp1.txt   the top frames, self and total
and prints the top frames. Needs perf (Debian's linux-perf) and
/usr/bin/python3 with matplotlib.

  scripts/bench/profile-pbft.sh [--seconds S] [--frequency HZ] [-- BENCH-PBFT ARGS]
    --seconds S      sampled seconds (default 8), inside the measured run
    --frequency HZ   samples a second per process (default 499)
Example: scripts/bench/profile-pbft.sh -- --tls --duration 15
WEFT_BIN=path profiles that binary instead of this tree's release build.
EOF2
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
seconds=8 frequency=499
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || lib_die "--seconds must be a positive number"; seconds=$2; shift 2 ;;
        --frequency) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || lib_die "--frequency must be a positive number"; frequency=$2; shift 2 ;;
        --) shift; break ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
command -v perf >/dev/null || { echo "profile-pbft: perf not found (apt-get install linux-perf)" >&2; exit 1; }
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || { echo "profile-pbft: /usr/bin/python3 lacks matplotlib (apt-get install python3-matplotlib)" >&2; exit 1; }
WEFT_BIN=$(lib_weft)
export WEFT_BIN
mkdir -p "$lib_root/results"
stamp=$(date -u +%Y%m%d-%H%M%S)
work=$(mktemp -d /tmp/weft-profile.XXXXXX)
lib_on_exit "rm -rf '$work'"
"$lib_root/scripts/bench/bench-pbft.sh" --consensus pbft "$@" > "$work/bench.log" 2>&1 &
bench=$!
lib_track "$bench"
pid_of() { pgrep -f -- "^$WEFT_BIN node start .*--peer-id $1( |$)" | head -1; }
# The validators start, mesh and warm up (bench-pbft: 2 s) before the measured run.
running() { [ -n "$(pid_of vp0)" ] && [ -n "$(pid_of vp1)" ]; }
lib_wait_for 60 running || { echo "profile-pbft: vp0 and vp1 did not start:" >&2; tail -20 "$work/bench.log" >&2; exit 1; }
sleep 4   # bench-pbft's warm-up is time-based (2 s after the mesh): sample inside its measured run
for name in vp0 vp1; do
    pid=$(pid_of "$name")
    [ -n "$pid" ] || { echo "profile-pbft: $name is not running (see $work/bench.log)" >&2; cat "$work/bench.log" >&2; exit 1; }
    timeout "$((seconds + 2))" perf record -q -F "$frequency" --call-graph dwarf,16384 -p "$pid" -o "$work/$name.data" -- sleep "$seconds" \
        > "$work/$name.perf.log" 2>&1 &
done
wait "$bench" || { echo "profile-pbft: bench-pbft failed:" >&2; tail -20 "$work/bench.log" >&2; exit 1; }
wait
grep -E '^\|' "$work/bench.log" || true
for name in vp0 vp1; do
    perf script -i "$work/$name.data" 2>/dev/null > "$work/$name.script"
    out="$lib_root/results/profile-$stamp-$name"
    /usr/bin/python3 "$lib_root/scripts/bench/flamegraph.py" "$work/$name.script" "$out.png" \
        --title "$name under bench-pbft $* ($stamp)" --top 25 | tee "$out.txt"
done
