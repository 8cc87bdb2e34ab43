#!/usr/bin/env bash
# N peers on 127.0.0.1, the first the root node of the others, for local
# experiments. Ctrl-C (or SIGTERM) stops them all. With --tls every link is
# mutual TLS 1.3, with a CA and certificates made by gen-certs.sh in the work folder.
# With --consensus pbft the peers vp0..vp<N-1> are the PBFT replicas (N of them,
# f = (N-1)/3); --set KEY=VALUE passes any config key to every peer.
#   scripts/cluster.sh [N] [--consensus echo|noops|pbft] [--base-port 7051] [--tls] [--set KEY=VALUE]...
set -euo pipefail
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
n=4 consensus=echo base=7051 tls=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --consensus) consensus=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) echo "cluster.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEFT_BIN:-$root/.build/release/weft}
[ -x "$bin" ] || swift build -c release --package-path "$root" >&2
work=$(mktemp -d /tmp/weft-cluster.XXXXXX)
pids=()
stop() {
  trap - INT TERM EXIT
  echo "cluster: stopping ${#pids[@]} peers" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "cluster: logs and data in $work" >&2
}
trap stop INT TERM EXIT
if [ $tls = 1 ]; then
  "$root/scripts/gen-certs.sh" --out "$work/certs" $(for i in $(seq 0 $((n - 1))); do echo "vp$i"; done)
fi
for i in $(seq 0 $((n - 1))); do
  args=(node start --peer-id "vp$i" --listen "127.0.0.1:$((base + i))" --ops-listen "127.0.0.1:$((base + 2000 + i))"
        --data-dir "$work/vp$i" --consensus "$consensus")
  [ "$i" -gt 0 ] && args+=(--root-node "127.0.0.1:$base")
  [ "$consensus" = pbft ] && args+=(--set "pbft.general.N=$n" --set "pbft.general.f=$(((n - 1) / 3))")
  args+=(${extra[@]+"${extra[@]}"})
  [ $tls = 1 ] && args+=(--tls --tls-cert "$work/certs/vp$i.pem" --tls-key "$work/certs/vp$i.key" --tls-root-cert "$work/certs/ca.pem")
  "$bin" "${args[@]}" 2>"$work/vp$i.log" &
  pids+=($!)
done
echo "cluster: $n peers on 127.0.0.1:$base..$((base + n - 1)), operations on :$((base + 2000))..; logs in $work" >&2
[ $tls = 1 ] && echo "cluster: TLS; load it with: $bin load --target 127.0.0.1:$base --id-domain load.weft --tls-cert $work/certs/load.pem --tls-key $work/certs/load.key --tls-root-cert $work/certs/ca.pem" >&2
sleep 2
for i in $(seq 0 $((n - 1))); do "$bin" node status --ops "127.0.0.1:$((base + 2000 + i))" || true; echo; done
echo "cluster: running; Ctrl-C stops it" >&2
wait
