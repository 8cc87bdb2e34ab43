#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
What idle connections cost: starts a release peer, has `weft load --idle`
open N connections that hand-shake and then stay silent, and reads the
peer's resident memory once all N are established (issue 5's target:
10,000 idle connections under 200 MiB in all).

  scripts/bench/idle-rss.sh [N]      N defaults to 10000

Needs N + ~100 file descriptors in each of the two processes: the script
raises its soft limit to the hard one and says so when that is not enough.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
cd "$lib_root"

n=${1:-10000}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || lib_die "N must be a positive number, not '$n'"

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n + 100)) ]; then
    echo "idle-rss: $n connections need $((n + 100)) descriptors, the hard limit is $(ulimit -Hn) (raise it, e.g. LimitNOFILE or /etc/security/limits.conf)" >&2
    exit 1
fi

# Set once, so that lib_start_peer does not run the build again.
WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN
work=$(mktemp -d /tmp/weft-idle.XXXXXX)
lib_on_exit "rm -rf '$work'"
lib_start_peer "$work/peer.log" --peer-id idle-rss --ops-listen 127.0.0.1:0 \
    --data-dir "$work/data" --consensus echo --log-level info \
    --set peer.limits.maxConnections=$((n + 16)) --set peer.discovery.persist=false
peer=$lib_peer_pid port=$lib_peer_port ops=$lib_peer_ops_port

metric() { curl -fsS "http://127.0.0.1:$ops/metrics" 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
rss_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
for _ in $(seq 100); do [ -n "$(metric weft_peers_established)" ] && break; sleep 0.1; done
[ -n "$(metric weft_peers_established)" ] || { echo "idle-rss: the peer did not start:" >&2; cat "$work/peer.log" >&2; exit 1; }
before=$(rss_kib "$peer" VmRSS)

# Hold the connections long enough to read the peer; the load tool stops by itself.
"$weft" load --target "127.0.0.1:$port" --idle -c "$n" -t 2 -d 60 --warmup 0 >"$work/load.out" 2>&1 &
load=$!
lib_track "$load"
established=0
for _ in $(seq 600); do
    established=$(metric weft_peers_established); established=${established:-0}
    [ "$established" -ge "$n" ] && break
    kill -0 "$load" 2>/dev/null || break
    sleep 0.1
done
if [ "$established" -lt "$n" ]; then
    echo "idle-rss: only $established of $n connections were established:" >&2
    tail -5 "$work/load.out" >&2; tail -5 "$work/peer.log" >&2
    exit 1
fi
sleep 2                                  # let the last hellos' buffers settle
rss=$(rss_kib "$peer" VmRSS) hwm=$(rss_kib "$peer" VmHWM)
kill "$load"; wait "$load" 2>/dev/null || true

awk -v n="$n" -v b="$before" -v r="$rss" -v h="$hwm" 'BEGIN {
    printf "idle-rss: %d established idle connections\n", n
    printf "  peer RSS %.1f MiB (%.1f MiB before any connection, peak %.1f MiB)\n", r / 1024, b / 1024, h / 1024
    printf "  %.1f KiB per connection; target: under 200 MiB in all -> %s\n", (r - b) / n, (r < 200 * 1024 ? "met" : "NOT met")
}'
