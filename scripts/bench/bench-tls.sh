#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
TLS against plain TCP on the same peer build, same run: the cost of
peer.tls.enabled. One weft peer (echo consenter) started plain, then with
mutual TLS 1.3 (certificates from gen-certs.sh), each driven by `weft load`
(the C loadgen speaks no TLS) over a few shapes; rounds interleave the two and
the best run of each is kept. Prints a Markdown table with the TLS/plain ratio;
writes results/bench-tls-<time>.md.
  scripts/bench/bench-tls.sh [--quick] [--rounds N=2]
    --quick     1 s runs instead of 4 s
WEFT_BIN=path benchmarks that binary instead of this tree's release build.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

dur=4 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) dur=1; shift ;;
    --rounds) [ $# -ge 2 ] || lib_die "--rounds needs a number"
              [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--rounds must be a positive number, not '$2'"
              rounds=$2; shift 2 ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
root=$lib_root
cd "$root"
echo "bench-tls: building (release)" >&2
# Set here, so that lib_start_peer does not run the build again for every start.
WEFT_BIN=$(lib_weft)
weft=$WEFT_BIN
work=$(mktemp -d)
lib_on_exit "rm -rf '$work'"
scripts/cluster/gen-certs.sh --out "$work/certs" bench >/dev/null 2>"$work/gen-certs.log" ||
  { cat "$work/gen-certs.log" >&2; echo "bench-tls: gen-certs.sh failed" >&2; exit 1; }
mkdir -p results
out=results/bench-tls-$(date +%Y%m%d-%H%M%S).md
tls_peer=(--tls --tls-cert "$work/certs/bench.pem" --tls-key "$work/certs/bench.key" --tls-root-cert "$work/certs/ca.pem")
tls_load=(--id-domain load.weft --tls-cert "$work/certs/load.pem" --tls-key "$work/certs/load.key" --tls-root-cert "$work/certs/ca.pem")

server_pid='' port=''
start_peer() {   # mode; sets server_pid and port
  local extra=(); [ "$1" = tls ] && extra=("${tls_peer[@]}")
  # Port 0: lib_start_peer reads the port from the ready file; info logs each connection once, at the handshake.
  lib_start_peer "$work/peer.log" --peer-id bench --ops-listen "" --data-dir "$work/peer" \
    --consensus echo --log-level info --set peer.discovery.persist=false "${extra[@]}"
  server_pid=$lib_peer_pid port=$lib_peer_port
}
stop_peer() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

configs=("16 8 128" "16 8 4096" "1 1 128")
declare -A best_rate best_p50 best_p99
for round in $(seq 1 "$rounds"); do
  for mode in plain tls; do
    start_peer "$mode"
    for cfg in "${configs[@]}"; do
      read -r c w s <<<"$cfg"
      extra=(); [ "$mode" = tls ] && extra=("${tls_load[@]}")
      json=$("$weft" load --target "127.0.0.1:$port" -c "$c" -w "$w" -s "$s" -d "$dur" --warmup 1 --json --quiet "${extra[@]}")
      read -r rate p50 p99 <<<"$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["msgs_per_s"], r["p50_us"], r["p99_us"])' "$json")"
      key="$mode|$cfg"
      echo "bench-tls: round $round $mode ${c}x${w}x${s}B: $rate msgs/s, p50 $p50 us, p99 $p99 us" >&2
      if [ -z "${best_rate[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if float('$rate') > float('${best_rate[$key]}') else 1)"; then
        best_rate[$key]=$rate best_p50[$key]=$p50 best_p99[$key]=$p99
      fi
    done
    stop_peer
  done
done

{
  echo "| connections x window x payload | plain msgs/s | TLS msgs/s | TLS/plain | plain p50 / p99 us | TLS p50 / p99 us |"
  echo "|---|---:|---:|---:|---:|---:|"
  for cfg in "${configs[@]}"; do
    read -r c w s <<<"$cfg"
    p="plain|$cfg" t="tls|$cfg"
    python3 - "$c x $w x $s B" "${best_rate[$p]}" "${best_rate[$t]}" "${best_p50[$p]}" "${best_p99[$p]}" "${best_p50[$t]}" "${best_p99[$t]}" <<'PY'
import sys
name, pr, tr, pp50, pp99, tp50, tp99 = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {pr:,.0f} | {tr:,.0f} | {tr / pr:.2f} | {pp50:.0f} / {pp99:.0f} | {tp50:.0f} / {tp99:.0f} |")
PY
  done
} | tee "$out"
echo "bench-tls: $rounds round(s) of ${dur}s, best of each; written to $out" >&2
