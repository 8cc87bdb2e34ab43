#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF2'
Start-up time and peak memory of a peer over long ledgers (issue 23): makes
a ledger of each size with a real peer (noops, one transaction a block,
group commit, driven by `weft load --mode tx`), then starts a peer on it
ROUNDS times and reports, per start, the time from exec to the "peer
started" line (polled every 10 ms) and the peak RSS then (VmHWM). Consensus
noops, then pbft (N=4, only vp0 started), with the default txid window and
with pbft.general.txidwindow=10000: a pbft start reads the chain's last
txidwindow txids back, the one part that grows with the chain until the
window is full.

  scripts/bench/bench-ledger-start.sh [--blocks "10000 200000"] [--rounds 3] [--keep DIR]

--keep DIR keeps (and reuses) the ledgers in DIR/ledger-N. WEFT_BIN picks
the binary (default: this tree's release build).
EOF2
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
cd "$lib_root"

sizes="10000 200000" rounds=3 keep=
while [ $# -gt 0 ]; do
    case "$1" in
        --blocks) sizes=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --keep) keep=${2:?}; shift 2 ;;
        *) lib_die "unknown argument '$1'" ;;
    esac
done
for n in $sizes; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || lib_die "--blocks takes positive numbers, not '$n'"; done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || lib_die "--rounds takes a positive number, not '$rounds'"

WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN
if [ -n "$keep" ]; then
    work=$keep
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/weft-ledger-start.XXXXXX)
    lib_on_exit "rm -rf '$work'"
fi

height() { "$weft" ledger tail -n 1 --data-dir "$1" 2>/dev/null | sed -n 's/^block \([0-9]*\):.*/\1/p' | awk '{ print $1 + 1 } END { if (NR == 0) print 0 }'; }

# A ledger of at least N blocks in DIR, written by a noops peer under load.
make_ledger() {
    local n=$1 dir=$2 have
    have=$( [ -d "$dir/ledger" ] && height "$dir" || echo 0)
    [ "${have:-0}" -ge "$n" ] && return 0
    lib_start_peer "$work/make.log" --peer-id vp0 --consensus noops --data-dir "$dir" \
        --set peer.validator.consensus.noops.blockSize=1 --set peer.validator.consensus.noops.sync=group \
        --log-level info
    local maker=$lib_peer_pid port=$lib_peer_port rounds_left=2000 window
    while [ "$(height "$dir")" -lt "$n" ] && [ $rounds_left -gt 0 ]; do
        # Closer to N, fewer in flight: the ledger ends near N blocks, not far past it.
        window=$(( (n - $(height "$dir")) / 100 )); [ $window -gt 64 ] && window=64; [ $window -lt 1 ] && window=1
        "$weft" load --mode tx --target "127.0.0.1:$port" -c 8 -w $window -s 64 -d 1 --warmup 0 >/dev/null 2>&1 || true
        rounds_left=$((rounds_left - 1))
    done
    echo "  ledger-$n: $(height "$dir") blocks" >&2
    kill -TERM "$maker"; wait "$maker" 2>/dev/null || true
}

# One start: prints "<milliseconds> <peak RSS KiB>".
measure_start() {
    local dir=$1; shift
    local log=$work/start.log t0 t1 pid hwm
    : >"$log"
    t0=$(date +%s%N)
    "$weft" node start --peer-id vp0 --listen 127.0.0.1:0 --data-dir "$dir" --log-level info "$@" 2>>"$log" &
    pid=$!
    lib_track "$pid"
    until grep -q 'peer started' "$log"; do
        kill -0 "$pid" 2>/dev/null || { tail -5 "$log" >&2; lib_die "the peer exited at start"; }
        sleep 0.01
    done
    t1=$(date +%s%N)
    hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    echo "$(( (t1 - t0) / 1000000 )) $hwm"
}

echo "| consenter | blocks | ledger MiB | index MiB | txids MiB | start ms (each round) | peak RSS MiB (each round) |"
echo "|---|---:|---:|---:|---:|---|---|"
for n in $sizes; do
    dir=$work/ledger-$n
    make_ledger "$n" "$dir"
    blocks=$(height "$dir")
    for consenter in noops pbft pbft-window-10000; do
        args=(--consensus "${consenter%%-*}")
        [ "$consenter" = pbft-window-10000 ] && args+=(--set pbft.general.txidwindow=10000)
        times=() rss=()
        for _ in $(seq "$rounds"); do
            read -r ms kib < <(measure_start "$dir" "${args[@]}")
            times+=("$ms") rss+=("$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')")
        done
        mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
        echo "| $consenter | $blocks | $(mib "$dir/ledger/blocks") | $(mib "$dir/ledger/index") | $(mib "$dir/ledger/txids") | ${times[*]} | ${rss[*]} |"
        rm -rf "$dir/pbft"
    done
done
