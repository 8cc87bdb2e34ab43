#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
N peers on 127.0.0.1, the first the root node of the others, for local
experiments. Ctrl-C (or SIGTERM) stops them all. Each peer listens on a port
of its own choosing (port 0), printed once it is up, as are its operations
and REST ports; --base-port P puts vp<i> on P+i, its operations endpoint on
P+2000+i and its REST API on P-1-i instead (with P = 7051: vp0's REST API on
Fabric's 7050). With --tls every link is
mutual TLS 1.3, with a CA and certificates made by gen-certs.sh in the work folder.
The consenter is pbft when N >= 4 (vp0..vp<N-1> are the PBFT replicas, N of
them, f = (N-1)/3), else noops (PBFT needs 3f+1 = 4 to tolerate a fault):
validating peers that commit blocks either way; --consensus picks another
(echo only answers each message: a network test aid). --set KEY=VALUE passes
any config key to every peer. Ports are read from each peer's --ready-file,
so any logging.format and logging.level work (CORE_LOGGING_FORMAT=json too).
  scripts/cluster/cluster.sh [N] [--consensus pbft|noops|echo] [--base-port P] [--tls] [--set KEY=VALUE]...
WEFT_BIN=path runs that binary instead of this tree's release build.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
n=4 consensus='' base='' tls=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --consensus|--base-port|--set) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --consensus) consensus=$2; shift 2 ;;
    --base-port) [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--base-port must be a port number, not '$2'"
                 base=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    [0-9]*) [[ "$1" =~ ^[1-9][0-9]*$ ]] || lib_die "N must be a positive number, not '$1'"
            n=$1; shift ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
if [ -z "$consensus" ]; then
  if [ "$n" -ge 4 ]; then consensus=pbft; else consensus=noops; fi
fi
echo "cluster: $n peers, consenter $consensus" >&2
root=$lib_root
# Set once, so that lib_start_peer does not run the build again for every peer.
WEFT_BIN=$(lib_weft)
bin=$WEFT_BIN
work=$(mktemp -d /tmp/weft-cluster.XXXXXX)
lib_on_exit "echo 'cluster: stopped; logs and data in $work' >&2"
if [ $tls = 1 ]; then
  names=()
  for i in $(seq 0 $((n - 1))); do names+=("vp$i"); done
  "$root/scripts/cluster/gen-certs.sh" --out "$work/certs" "${names[@]}"
fi
ports=() ops=() rests=()
for i in $(seq 0 $((n - 1))); do
  args=(--peer-id "vp$i" --data-dir "$work/vp$i" --consensus "$consensus")
  if [ -n "$base" ]; then
    args+=(--listen "127.0.0.1:$((base + i))" --ops-listen "127.0.0.1:$((base + 2000 + i))" --set "rest.address=127.0.0.1:$((base - 1 - i))")
  else
    args+=(--ops-listen 127.0.0.1:0 --set rest.address=127.0.0.1:0)
  fi
  [ "$i" -gt 0 ] && args+=(--root-node "127.0.0.1:${ports[0]}")
  [ "$consensus" = pbft ] && args+=(--set "pbft.general.N=$n" --set "pbft.general.f=$(((n - 1) / 3))")
  args+=(${extra[@]+"${extra[@]}"})
  [ $tls = 1 ] && args+=(--tls --tls-cert "$work/certs/vp$i.pem" --tls-key "$work/certs/vp$i.key" --tls-root-cert "$work/certs/ca.pem")
  lib_start_peer "$work/vp$i.log" "${args[@]}"
  ports+=("$lib_peer_port") ops+=("$lib_peer_ops_port") rests+=("$lib_peer_rest_port")
done
for i in $(seq 0 $((n - 1))); do echo "cluster: vp$i on 127.0.0.1:${ports[$i]}, operations on 127.0.0.1:${ops[$i]}, REST on 127.0.0.1:${rests[$i]}" >&2; done
echo "cluster: $n peers; logs in $work" >&2
[ $tls = 1 ] && echo "cluster: TLS; load it with: $bin load --target 127.0.0.1:${ports[0]} --id-domain load.weft --tls-cert $work/certs/load.pem --tls-key $work/certs/load.key --tls-root-cert $work/certs/ca.pem" >&2
full_mesh() {   # every peer has the other n-1 established
  local i count
  for i in $(seq 0 $((n - 1))); do
    count=$(curl -s -m 1 "http://127.0.0.1:${ops[$i]}/metrics" 2>/dev/null | sed -n 's/^weft_peers_established \([0-9]*\)$/\1/p' || true)
    [ "${count:-0}" -ge $((n - 1)) ] || return 1
  done
}
lib_wait_for 30 full_mesh || echo "cluster: the mesh has not formed within 30 s; the peers' views:" >&2
for i in $(seq 0 $((n - 1))); do "$bin" node status --ops "127.0.0.1:${ops[$i]}" || true; echo; done
echo "cluster: running; Ctrl-C stops it" >&2
wait
