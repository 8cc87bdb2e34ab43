#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Prints this host's network and descriptor settings beside the values
docs/TUNING.md recommends for a Weft peer; changes nothing unless --apply
(root; sysctl values are not persisted — put them in /etc/sysctl.d/ for that).
  scripts/cluster/tune-host.sh [--apply]
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
apply=0
case "${1:-}" in
  --apply) apply=1 ;;
  "") ;;
  *) lib_die "unknown argument '$1'" ;;
esac
[ $# -le 1 ] || lib_die "takes at most one argument (--apply), not '$*'"
# key | recommended | why
settings=(
  "net.core.somaxconn|4096|listen backlog cap: peer.socket.backlog is clamped to it"
  "net.ipv4.tcp_max_syn_backlog|4096|half-open connections during a connect storm"
  "net.core.rmem_max|16777216|largest SO_RCVBUF peer.socket.receiveBuffer may ask for"
  "net.core.wmem_max|16777216|largest SO_SNDBUF peer.socket.sendBuffer may ask for"
  "net.ipv4.tcp_rmem|4096 131072 16777216|autotuned receive buffer min/default/max"
  "net.ipv4.tcp_wmem|4096 65536 16777216|autotuned send buffer min/default/max"
  "net.ipv4.ip_local_port_range|1024 65535|ports for dialing peers and load generators"
  "fs.file-max|1048576|system-wide descriptors"
)
printf "%-32s %-24s %-24s %s\n" "setting" "current" "recommended" "why"
for entry in "${settings[@]}"; do
  IFS='|' read -r key want why <<<"$entry"
  have=$(sysctl -n "$key" 2>/dev/null | tr '\t' ' ' || echo "?")
  # "*" when the host has less than recommended (the last number of a triple
  # is the one that limits; for the port range, the number of ports)
  mark=""
  read -r -a h <<<"$have"; read -r -a w <<<"$want"
  if [ "${#w[@]}" = 2 ]; then
    [ $(( ${h[1]:-0} - ${h[0]:-0} )) -lt $(( w[1] - w[0] )) ] && mark="*"
  elif [[ "${h[-1]:-}" =~ ^[0-9]+$ ]]; then
    [ "${h[-1]}" -lt "${w[-1]}" ] && mark="*"
  fi
  printf "%-32s %-24s %-24s %s\n" "$key" "$have$mark" "$want" "$why"
done
printf "%-32s %-24s %-24s %s\n" "ulimit -n (this shell)" "$(ulimit -n)" "65536" "one descriptor per connection (+ a few); systemd: LimitNOFILE"
echo "(* below the recommendation)"
if [ $apply = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "tune-host.sh: --apply needs root" >&2; exit 1; }
  for entry in "${settings[@]}"; do
    IFS='|' read -r key want _ <<<"$entry"
    sysctl -q -w "$key=$want" || echo "tune-host.sh: could not set $key" >&2
  done
  echo "applied (until reboot); the descriptor limit is the service's: see deploy/weft.service"
fi
