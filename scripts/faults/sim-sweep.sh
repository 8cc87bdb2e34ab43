#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF2'
The whole-host PBFT simulator over a range of seeds (docs/FAULTS.md, "The
simulator"): the release build's `weft sim`, which prints each failing seed
(its violations, the command that replays it, its trace's tail), a progress
line on stderr every 10 s, and ends with `seeds N, steps S, violations V`.
Exits 0 only when no seed violates a property.

  scripts/faults/sim-sweep.sh --seeds A-B [--replicas N] [--steps S] [--quiet-ticks Q] [--jobs J] [--unsigned]
    --seeds A-B        the seeds (default 1-100)
    --replicas N       replicas (default 4; f = (N-1)/3)
    --steps S          ticks with faults per seed (default 2000; a tick is 10 ms simulated)
    --quiet-ticks Q    ticks after the faults stop, the liveness bound (default 3000)
    --jobs J           processes, each a share of the seeds (default 1)
    --unsigned         unsigned VIEW-CHANGEs, as a cluster without TLS (default:
                       signed, as with TLS; PROTOCOL.md section 8)
Replay one seed: weft sim --seeds S-S --replicas N --steps S --trace
WEFT_BIN=path runs that binary instead of this tree's release build.
EOF2
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
seeds=1-100 replicas=4 steps=2000 quiet=3000 jobs=1 unsigned=()
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "$1 must be a positive number, not '$2'"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds=${2:?}; shift 2 ;;
        --replicas) positive --replicas "${2:-}"; replicas=$2; shift 2 ;;
        --steps) positive --steps "${2:-}"; steps=$2; shift 2 ;;
        --quiet-ticks) positive --quiet-ticks "${2:-}"; quiet=$2; shift 2 ;;
        --jobs) positive --jobs "${2:-}"; jobs=$2; shift 2 ;;
        --unsigned) unsigned=(--unsigned); shift ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
[[ "$seeds" =~ ^([0-9]+)-([0-9]+)$ ]] || lib_die "--seeds must be FIRST-LAST, not '$seeds'"
first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
[ "$first" -le "$last" ] || lib_die "--seeds: $first is after $last"
weft=$(lib_weft)
export SWIFT_DETERMINISTIC_HASHING=1

# Each job a contiguous share of the seeds; their outputs are shown in seed order.
out=$(mktemp -d)
lib_on_exit "rm -rf '$out'"
total=$((last - first + 1)) share=$(( (last - first + jobs) / jobs ))
pids=()
for ((j = 0; j < jobs; j++)); do
    from=$((first + j * share)); to=$((from + share - 1)); [ "$to" -le "$last" ] || to=$last
    [ "$from" -le "$last" ] || break
    "$weft" sim --seeds "$from-$to" --replicas "$replicas" --steps "$steps" --quiet-ticks "$quiet" ${unsigned[@]+"${unsigned[@]}"} >"$out/$j" &
    pids+=("$!")
    lib_track "$!"
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
runs=0 ticks=0 bad=0
for ((j = 0; j < ${#pids[@]}; j++)); do
    grep -v '^seeds [0-9]*, steps\|^wall ' "$out/$j" || true
    read -r r t v < <(sed -n 's/^seeds \([0-9]*\), steps \([0-9]*\), violations \([0-9]*\)$/\1 \2 \3/p' "$out/$j")
    runs=$((runs + ${r:-0})) ticks=$((ticks + ${t:-0})) bad=$((bad + ${v:-0}))
done
[ "$runs" -eq "$total" ] || { echo "$lib_name: only $runs of $total seeds reported" >&2; status=1; }
echo "wall ${SECONDS} s"
echo "seeds $runs, steps $ticks, violations $bad"
[ "$bad" -eq 0 ] && [ "$status" -eq 0 ]
