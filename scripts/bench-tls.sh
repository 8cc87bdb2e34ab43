#!/usr/bin/env bash
# TLS against plain TCP on the same peer build, same run: the cost of
# peer.tls.enabled. One weft peer (echo consenter) started plain, then with
# mutual TLS 1.3 (certificates from gen-certs.sh), each driven by `weft load`
# (the C loadgen speaks no TLS) over a few shapes; rounds interleave the two and
# the best run of each is kept. Prints a Markdown table with the TLS/plain ratio;
# writes results/bench-tls-<time>.md.
#   scripts/bench-tls.sh [--quick] [--rounds N=2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dur=4 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) dur=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-tls.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
cd "$root"
echo "bench-tls: building (release)" >&2
swift build -c release >&2
weft=$root/.build/release/weft
work=$(mktemp -d)
scripts/gen-certs.sh --out "$work/certs" bench >/dev/null 2>&1
mkdir -p results
out=results/bench-tls-$(date +%Y%m%d-%H%M%S).md
server_pid=
stop_server() { [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
trap 'stop_server; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
tls_peer=(--tls --tls-cert "$work/certs/bench.pem" --tls-key "$work/certs/bench.key" --tls-root-cert "$work/certs/ca.pem")
tls_load=(--id-domain load.weft --tls-cert "$work/certs/load.pem" --tls-key "$work/certs/load.key" --tls-root-cert "$work/certs/ca.pem")

start_peer() {   # mode port
  local extra=(); [ "$1" = tls ] && extra=("${tls_peer[@]}")
  "$weft" node start --peer-id bench --listen "127.0.0.1:$2" --ops-listen "" --data-dir "$work/peer" \
    --consensus echo --log-level error --set peer.discovery.persist=false "${extra[@]}" 2>"$work/peer.log" &
  server_pid=$!
  wait_port "$2" || { echo "bench-tls: the peer did not start:" >&2; cat "$work/peer.log" >&2; exit 1; }
}

configs=("16 8 128" "16 8 4096" "1 1 128")
declare -A best_rate best_p50 best_p99
for round in $(seq 1 "$rounds"); do
  for mode in plain tls; do
    port=$(free_port)
    start_peer "$mode" "$port"
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
    stop_server
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
