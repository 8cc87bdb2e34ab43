#!/usr/bin/env bash
# N peers, each in its own network namespace, joined by a bridge that lives in
# a namespace of its own (the host's interfaces and routes are never touched).
# Waits for the full mesh, prints each peer's view, tears everything down on
# exit. Needs root and iproute2. Peers vp0..vp<N-1> at 10.213.0.1..N/24, inside
# those namespaces only. --tls: mutual TLS 1.3 links, certificates from
# gen-certs.sh. --consensus pbft: the peers are the N PBFT replicas (f = (N-1)/3).
#   scripts/netns-cluster.sh [N=4] [--hold] [--timeout SECONDS] [--tls] [--consensus echo|noops|pbft]
# Exit: 0 mesh formed, 1 it did not, 77 namespaces cannot be made here (reason on stderr).
# No `set -e`: the exit status is that verdict, so the steps that must work are checked where they run
# (|| exit 1, || skip), and the status polls, which fail until the peers are up, must not end the run.
set -uo pipefail
n=4 hold=0 timeout=30 tls=0 consensus=noops
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --hold) hold=1; shift ;;
    --tls) tls=1; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    --consensus) consensus=$2; shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) echo "netns-cluster: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEFT_BIN:-$root/.build/release/weft}
[ -x "$bin" ] || { swift build -c release --package-path "$root" >&2 || exit 1; }
tag="weft$$"
br="${tag}br"
work=$(mktemp -d /tmp/weft-netns.XXXXXX)

skip() { echo "netns-cluster: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
ip netns add "$br" 2>"$work/err" || skip "ip netns add failed: $(cat "$work/err")"

pids=()
cleanup() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  for i in $(seq 1 "$n"); do ip netns del "${tag}n$i" 2>/dev/null; done
  ip netns del "$br" 2>/dev/null
  echo "netns-cluster: torn down (logs in $work)" >&2
}
trap cleanup INT TERM EXIT

ip -n "$br" link add br0 type bridge && ip -n "$br" link set br0 up || { echo "netns-cluster: cannot make the bridge" >&2; exit 77; }
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
  "$root/scripts/gen-certs.sh" --out "$work/certs" $(for i in $(seq 0 $((n - 1))); do echo "vp$i"; done) || exit 1
fi
for i in $(seq 1 "$n"); do
  name="vp$((i - 1))"
  args=(node start --peer-id "$name" --listen "10.213.0.$i:7051" --ops-listen "127.0.0.1:9443" --data-dir "$work/$name"
        --consensus "$consensus")
  [ "$i" -gt 1 ] && args+=(--root-node "10.213.0.1:7051")
  [ "$consensus" = pbft ] && args+=(--set "pbft.general.N=$n" --set "pbft.general.f=$(((n - 1) / 3))")
  [ $tls = 1 ] && args+=(--tls --tls-cert "$work/certs/$name.pem" --tls-key "$work/certs/$name.key" --tls-root-cert "$work/certs/ca.pem")
  ip netns exec "${tag}n$i" "$bin" "${args[@]}" 2>"$work/$name.log" &
  pids+=($!)
done
echo "netns-cluster: $n peers vp0..vp$((n - 1)) ($consensus) in namespaces ${tag}n1..${tag}n$n; waiting for the mesh (up to ${timeout}s)" >&2
deadline=$((SECONDS + timeout))
formed=0
while [ $SECONDS -lt $deadline ]; do
  ok=1
  for i in $(seq 1 "$n"); do
    count=$(ip netns exec "${tag}n$i" "$bin" node status --ops 127.0.0.1:9443 2>/dev/null | head -1 | sed -n 's/.*: \([0-9]*\) established/\1/p')
    [ "${count:-0}" = $((n - 1)) ] || { ok=0; break; }
  done
  [ $ok = 1 ] && { formed=1; break; }
  sleep 0.5
done
for i in $(seq 1 "$n"); do
  echo "== vp$((i - 1)) (10.213.0.$i)"
  ip netns exec "${tag}n$i" "$bin" node status --ops 127.0.0.1:9443 || true
done
if [ $formed = 1 ]; then echo "netns-cluster: full mesh of $n peers formed"; else echo "netns-cluster: the mesh did not form within ${timeout}s" >&2; fi
if [ $hold = 1 ] && [ $formed = 1 ]; then echo "netns-cluster: holding; Ctrl-C tears down" >&2; wait; fi
[ $formed = 1 ]
