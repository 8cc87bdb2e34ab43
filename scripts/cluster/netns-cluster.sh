#!/usr/bin/env bash
# No `set -e`: the exit status is the verdict below, so the steps that must work are checked where they run
# (|| exit 1, || skip), and the status polls, which fail until the peers are up, must not end the run.
set -uo pipefail
USAGE=$(cat <<'EOF'
N peers, each in its own network namespace, joined by a bridge that lives in
a namespace of its own (the host's interfaces and routes are never touched).
Waits for the full mesh, prints each peer's view, tears everything down on
exit. Needs root and iproute2. Peers vp0..vp<N-1> at 10.213.0.1..N/24, inside
those namespaces only. --tls: mutual TLS 1.3 links, certificates from
gen-certs.sh. --consensus pbft: the peers are the N PBFT replicas (f = (N-1)/3).
  scripts/cluster/netns-cluster.sh [N=4] [--hold] [--timeout SECONDS] [--tls] [--consensus echo|noops|pbft]
Exit: 0 mesh formed, 1 it did not, 77 namespaces cannot be made here (reason on stderr), 2 a wrong argument.
WEFT_BIN=path runs that binary instead of this tree's release build.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
n=4 hold=0 timeout=30 tls=0 consensus=noops
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout|--consensus) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --hold) hold=1; shift ;;
    --tls) tls=1; shift ;;
    --timeout) [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--timeout must be a positive number of seconds, not '$2'"
               timeout=$2; shift 2 ;;
    --consensus) consensus=$2; shift 2 ;;
    [0-9]*) [[ "$1" =~ ^[1-9][0-9]*$ ]] || lib_die "N must be a positive number, not '$1'"
            n=$1; shift ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
root=$lib_root
bin=$(lib_weft) || exit 1
tag="weft$$"
br="${tag}br"
work=$(mktemp -d /tmp/weft-netns.XXXXXX)

skip() { echo "netns-cluster: SKIP: $*" >&2; rm -rf "$work"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
ip netns add "$br" 2>"$work/err" || skip "ip netns add failed: $(cat "$work/err")"

# At exit (after lib.sh has stopped the peers): the namespaces go.
formed=0
teardown() {
  local i
  for i in $(seq 1 "$n"); do ip netns del "${tag}n$i" 2>/dev/null; done
  ip netns del "$br" 2>/dev/null
  if [ $formed = 1 ]; then
    rm -rf "$work"      # the peers' data and logs: kept only when the mesh did not form
    echo "netns-cluster: torn down" >&2
  else
    echo "netns-cluster: torn down (logs in $work)" >&2
  fi
}
lib_on_exit teardown

if ! ip -n "$br" link add br0 type bridge || ! ip -n "$br" link set br0 up; then
  echo "netns-cluster: cannot make the bridge" >&2; exit 77
fi
for i in $(seq 1 "$n"); do
  ns="${tag}n$i"
  ip netns add "$ns" || exit 1
  ip link add "v${tag}$i" netns "$ns" type veth peer name "p$i" netns "$br" || exit 1
  ip -n "$br" link set "p$i" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "v${tag}$i" name eth0
  ip -n "$ns" addr add "10.213.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
if [ $tls = 1 ]; then
  names=()
  for i in $(seq 0 $((n - 1))); do names+=("vp$i"); done
  "$root/scripts/cluster/gen-certs.sh" --out "$work/certs" "${names[@]}" || exit 1
fi
# Fixed addresses: each peer is alone in its namespace, so 10.213.0.i:7051 and 127.0.0.1:9443 are its own.
for i in $(seq 1 "$n"); do
  name="vp$((i - 1))"
  args=(node start --peer-id "$name" --listen "10.213.0.$i:7051" --ops-listen "127.0.0.1:9443" --data-dir "$work/$name"
        --consensus "$consensus")
  [ "$i" -gt 1 ] && args+=(--root-node "10.213.0.1:7051")
  [ "$consensus" = pbft ] && args+=(--set "pbft.general.N=$n" --set "pbft.general.f=$(((n - 1) / 3))")
  [ $tls = 1 ] && args+=(--tls --tls-cert "$work/certs/$name.pem" --tls-key "$work/certs/$name.key" --tls-root-cert "$work/certs/ca.pem")
  ip netns exec "${tag}n$i" "$bin" "${args[@]}" 2>"$work/$name.log" &
  lib_track $!
done
echo "netns-cluster: $n peers vp0..vp$((n - 1)) ($consensus) in namespaces ${tag}n1..${tag}n$n; waiting for the mesh (up to ${timeout}s)" >&2
full_mesh() {   # every peer has the other n-1 established
  local i count
  for i in $(seq 1 "$n"); do
    count=$(ip netns exec "${tag}n$i" "$bin" node status --ops 127.0.0.1:9443 2>/dev/null | head -1 | sed -n 's/.*: \([0-9]*\) established/\1/p')
    [ "${count:-0}" = $((n - 1)) ] || return 1
  done
}
lib_wait_for "$timeout" full_mesh && formed=1
for i in $(seq 1 "$n"); do
  echo "== vp$((i - 1)) (10.213.0.$i)"
  ip netns exec "${tag}n$i" "$bin" node status --ops 127.0.0.1:9443 || true
done
if [ $formed = 1 ]; then echo "netns-cluster: full mesh of $n peers formed"; else echo "netns-cluster: the mesh did not form within ${timeout}s" >&2; fi
if [ $hold = 1 ] && [ $formed = 1 ]; then echo "netns-cluster: holding; Ctrl-C tears down" >&2; wait; fi
[ $formed = 1 ]
