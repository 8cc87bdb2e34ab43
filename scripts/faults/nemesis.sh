#!/usr/bin/env bash
# shellcheck disable=SC2317  # the functions lib.sh runs (lib_wait_for's checks, lib_on_exit's cleanup) look unreachable to it
# No `set -e`: faults make commands fail on purpose (dd fills the disk until ENOSPC, `wait` returns a
# killed validator's status, kill/nft may hit a validator that is gone), and the exit status must be the
# checker's verdict or 77; the steps that must work are checked where they run (|| exit 1, || skip).
set -uo pipefail
USAGE=$(cat <<'EOF'
A fault campaign against N PBFT validators, each in its own network namespace
(as netns-cluster.sh makes them), with load from clients attached to several
validators, a reproducible fault schedule, then the checker and a report.

  scripts/faults/nemesis.sh [--validators N] [--faults LIST] [--duration S] [--seed N] [--interval S]
                     [--hold S] [--clients K] [--window W] [--liveness-bound S] [--progress-bound S]
                     [--byzantine MODE] [--out DIR] [--disk-size SIZE] [--set KEY=VALUE]...
    --validators N    vp0..vp<N-1> at 10.213.0.1..N (default 4; f = (N-1)/3)
    --faults LIST     comma-separated, drawn in a seeded order (default all):
                      primary  the current primary cut off from every other validator
                      minority f validators cut off from the rest
                      split    the validators split in two halves (no quorum on either side for N=4)
                      oneway   one validator's packets to the others dropped (it still hears them)
                      loss     5 % of one validator's packets to and from the others dropped (numgen random)
                      pause    SIGSTOP, then SIGCONT at the heal (sockets open, nothing answers)
                      kill     SIGKILL, then restart with the same data directory at the heal
                      disk     the data directory of vp<N-1> (a tmpfs of --disk-size) filled up, freed at the heal
    --duration S      seconds of load (default 60); faults start at 8 s and end by S - 12
    --interval S      a fault every S seconds (default 15); each held --hold S (default 60 % of it), then healed
    --seed N          the schedule's seed (default: the time); the same seed gives the same schedule
    --clients K       weft load clients, attached to vp0..vp<K-1> (default min(N, 4)); -c 2 -w W each
    --window W        transactions in flight per client connection (default 16)
    --liveness-bound S  the checker's bound after the last heal (default 60)
    --progress-bound S  the checker's bound per fault: a quorum of correct, connected validators
                      commits again within it (default 8 = 2 x (timeout.request + timeout.viewchange))
    --byzantine MODE  vp<N-1> lies (pbft.test.byzantine=MODE: wrong-digest, phantom-prepare,
                      equivocate, forge-view-change, bad-blocks, ...); the checker counts it faulty
    --out DIR         where the run's files go (default results/nemesis-<time>)
    --disk-size SIZE  the tmpfs of the disk fault (default 256M)
    --set KEY=VALUE   passed to every validator
Writes DIR/report.md and DIR/timeline.png (python3-matplotlib, installed if missing),
DIR/check.txt (the checker's verdicts), events.tsv, samples.tsv, the logs and the data directories.
Exit: the checker's (0 all five verdicts pass, 1 a violation), 77 if namespaces cannot be made here,
2 a wrong argument.
Needs root, iproute2 and nftables (installed with apt-get if missing).
WEFT_BIN=path runs that binary instead of this tree's release build.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
n=4 faults="primary,minority,split,oneway,loss,pause,kill,disk" duration=60 seed=$(date +%s) interval=15 hold=""
clients="" window=16 bound=60 progress_bound=8 byzantine="" out="" disk_size=256M
extra=()
whole() { [[ "$2" =~ ^[0-9]+$ ]] || lib_die "$1 must be a whole number, not '$2'"; }
number() { [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || lib_die "$1 must be a number of seconds, not '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --validators|--faults|--duration|--seed|--interval|--hold|--clients|--window|--liveness-bound|--progress-bound|--byzantine|--out|--disk-size|--set)
      [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --validators) whole "$1" "$2"; n=$2; shift 2 ;;
    --faults) faults=$2; shift 2 ;;
    --duration) number "$1" "$2"; duration=$2; shift 2 ;;
    --seed) whole "$1" "$2"; seed=$2; shift 2 ;;
    --interval) number "$1" "$2"; interval=$2; shift 2 ;;
    --hold) number "$1" "$2"; hold=$2; shift 2 ;;
    --clients) whole "$1" "$2"; clients=$2; shift 2 ;;
    --window) whole "$1" "$2"; window=$2; shift 2 ;;
    --liveness-bound) whole "$1" "$2"; bound=$2; shift 2 ;;
    --progress-bound) number "$1" "$2"; progress_bound=$2; shift 2 ;;
    --byzantine) [[ "$2" =~ ^[a-z-]+$ ]] || lib_die "--byzantine takes a mode name, not '$2'"; byzantine=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --disk-size) disk_size=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
# Debian's python3 (its python3-matplotlib draws the timeline), else whatever python3 is on PATH.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
[ "$n" -ge 4 ] || lib_die "--validators must be at least 4, not $n"
clients=${clients:-$((n < 4 ? n : 4))}
hold=${hold:-$($py -c "print(round($interval * 0.6, 1))")}
root=$lib_root
bin=$(lib_weft) || exit $?
[ -n "$out" ] || out=$root/results/nemesis-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"/{data,acked,pids,load,logs} || exit 1
out=$(cd "$out" && pwd)
tag="nem$$"
br="${tag}br"
f=$(((n - 1) / 3))

skip() { echo "nemesis: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
if ! command -v nft >/dev/null; then
  echo "nemesis: installing nftables (apt-get)" >&2
  { apt-get install -y -qq nftables >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nftables >/dev/null 2>&1; }; } \
    || skip "nftables (nft) is not installed and apt-get could not install it"
fi
ip netns add "$br" 2>"$out/logs/netns.err" || skip "ip netns add failed: $(cat "$out/logs/netns.err")"

ns() { echo "${tag}n$(($1 + 1))"; }
ipof() { echo "10.213.0.$(($1 + 1))"; }
t0=$(date +%s.%N)
echo "$t0" >"$out/t0"
now() { $py -c "import time; print(f'{time.time() - $t0:.2f}')"; }
event() { printf '%s\t%s\t%s\t%s\n' "$(now)" "$1" "$2" "$3" >>"$out/events.tsv"; }
say() { echo "nemesis: [$(now)s] $*" >&2; }

declare -A vpid=()
load_pids=() sampler=""
disk_node=$((n - 1))
disk_dir="$out/data/vp$disk_node"
mounted=0
# At exit, Ctrl-C or SIGTERM (lib.sh runs it): the clients and validators stop (a paused one is
# continued first), the namespaces go, the tmpfs is unmounted with its contents kept.
cleanup() {
  [ ${#load_pids[@]} -gt 0 ] && kill -TERM "${load_pids[@]}" 2>/dev/null
  for i in "${!vpid[@]}"; do kill -CONT "${vpid[$i]}" 2>/dev/null; kill -TERM "${vpid[$i]}" 2>/dev/null; done
  touch "$out/stop-sampler"
  wait 2>/dev/null
  for i in $(seq 0 $((n - 1))); do ip netns del "$(ns "$i")" 2>/dev/null; done
  ip netns del "$br" 2>/dev/null
  if [ "$mounted" = 1 ]; then
    rm -f "$disk_dir/filler"
    cp -a "$disk_dir" "$disk_dir.copy" && umount "$disk_dir" && rmdir "$disk_dir" && mv "$disk_dir.copy" "$disk_dir"
    mounted=0
  fi
}
lib_on_exit cleanup

# The network: a bridge in its own namespace (address .254, from which the sampler reads /metrics).
if ! { ip -n "$br" link add br0 type bridge && ip -n "$br" link set br0 up && ip -n "$br" addr add 10.213.0.254/24 dev br0 \
       && ip -n "$br" link set lo up; }; then
  skip "cannot make the bridge"
fi
for i in $(seq 0 $((n - 1))); do
  s=$(ns "$i")
  ip netns add "$s" || exit 1
  ip link add "v${tag}$i" netns "$s" type veth peer name "p$i" netns "$br" || exit 1
  ip -n "$br" link set "p$i" master br0 up
  ip -n "$s" link set lo up
  ip -n "$s" link set "v${tag}$i" name eth0
  ip -n "$s" addr add "$(ipof "$i")/24" dev eth0
  ip -n "$s" link set eth0 up
  ip netns exec "$s" nft add table inet nemesis || skip "nft cannot make a table inside a namespace"
  ip netns exec "$s" nft add chain inet nemesis in '{ type filter hook input priority 0; }'
  ip netns exec "$s" nft add chain inet nemesis out '{ type filter hook output priority 0; }'
done
if [[ ",$faults," == *,disk,* ]]; then
  if ! { mkdir -p "$disk_dir" && mount -t tmpfs -o "size=$disk_size" tmpfs "$disk_dir"; }; then
    echo "nemesis: cannot mount a tmpfs on $disk_dir" >&2; exit 1
  fi
  mounted=1
fi

start_vp() {
  local i=$1 name="vp$1"
  local args=(node start --peer-id "$name" --listen "$(ipof "$i"):7051" --ops-listen "$(ipof "$i"):9443"
              --data-dir "$out/data/$name" --consensus pbft --log-level info
              --set "pbft.general.N=$n" --set "pbft.general.f=$f" --set pbft.general.timeout.batch=200ms)
  [ "$i" -gt 0 ] && args+=(--root-node "$(ipof 0):7051")
  args+=(${extra[@]+"${extra[@]}"})
  [ -n "$byzantine" ] && [ "$i" -eq $((n - 1)) ] && args+=(--set "pbft.test.byzantine=$byzantine")
  ip netns exec "$(ns "$i")" "$bin" "${args[@]}" 2>>"$out/logs/$name.log" &
  vpid[$i]=$!
  echo "${vpid[$i]}" >"$out/pids/$name"
  event start "$name" "${vpid[$i]}"
}
for i in $(seq 0 $((n - 1))); do start_vp "$i"; done
[ -n "$byzantine" ] && event byzantine "vp$((n - 1))" "$byzantine"
ip netns exec "$br" $py "$root/scripts/faults/nemesis-sample.py" "$out" "$n" 1 2>"$out/logs/sampler.log" &
sampler=$!
say "$n validators (f = $f) in namespaces ${tag}n1..${tag}n$n; run directory $out"

# The full mesh (DISC peers), read from the sampler's point of view: every /metrics answers.
full_mesh() {
  local i c
  for i in $(seq 0 $((n - 1))); do
    c=$(ip netns exec "$br" curl -s -m 1 "http://$(ipof "$i"):9443/metrics" | sed -n 's/^weft_peers_established \([0-9]*\)$/\1/p')
    [ "${c:-0}" -ge $((n - 1)) ] || return 1
  done
}
lib_wait_for 60 full_mesh || { echo "nemesis: the mesh did not form within 60 s (logs in $out/logs)" >&2; exit 1; }
event mesh - "$n"
say "full mesh; load for ${duration}s from $clients clients; faults: $faults, every ${interval}s held ${hold}s, seed $seed"

# The schedule: reproducible from the seed (kinds, times, targets; the primary is resolved when the fault starts).
$py - "$faults" "$duration" "$interval" "$hold" "$seed" "$n" "$disk_node" >"$out/schedule.tsv" <<'PY' || exit 2
import random, sys
kinds, duration, interval, hold, seed, n, disk = sys.argv[1].split(","), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
known = {"primary", "minority", "split", "oneway", "loss", "pause", "kill", "disk"}
bad = [k for k in kinds if k not in known]
if bad:
    sys.exit(f"nemesis: unknown fault(s) {bad}; known: {sorted(known)}")
rng = random.Random(seed)
f = (n - 1) // 3
t, order = 8.0, []
while t + hold <= duration - 12:
    if not order:
        order = kinds[:]
        rng.shuffle(order)
    kind = order.pop()
    nodes = list(range(n))
    if kind == "minority":
        target = ",".join(str(x) for x in sorted(rng.sample(nodes, f)))
    elif kind == "split":
        rng.shuffle(nodes)
        target = ",".join(str(x) for x in sorted(nodes[: n // 2]))
    elif kind == "disk":
        target = str(disk)
    elif kind == "primary":
        target = "primary"
    else:
        target = str(rng.randrange(n))
    print(f"{t:.1f}\t{t + hold:.1f}\t{kind}\t{target}")
    t += interval
PY
cp "$out/schedule.tsv" "$out/schedule.orig.tsv"

for i in $(seq 0 $((clients - 1))); do
  ip netns exec "$(ns "$i")" "$bin" load --mode tx --target "$(ipof "$i"):7051" -c 2 -w "$window" -d "$duration" --warmup 0 \
    --id-prefix "nem-vp$i" --acked "$out/acked/client-vp$i.txt" --reconnect --quiet --json \
    >"$out/load/client-vp$i.json" 2>"$out/logs/client-vp$i.log" &
  load_pids+=($!)
done
event load-start - "$clients"

others() { local i=$1 j l=(); for j in $(seq 0 $((n - 1))); do [ "$j" = "$i" ] || l+=("$(ipof "$j")"); done; local IFS=,; echo "${l[*]}"; }
ipset() { local j l=(); for j in "$@"; do l+=("$(ipof "$j")"); done; local IFS=,; echo "${l[*]}"; }
nftin() { ip netns exec "$(ns "$1")" nft "${@:2}"; }
# Cuts every link between the validators in $1 and those in $2 (comma lists), both ways.
sever() {
  local a b
  IFS=, read -ra as <<<"$1"; IFS=, read -ra bs <<<"$2"
  for a in "${as[@]}"; do
    nftin "$a" add rule inet nemesis out ip daddr "{ $(ipset "${bs[@]}") }" drop
    nftin "$a" add rule inet nemesis in ip saddr "{ $(ipset "${bs[@]}") }" drop
  done
  for b in "${bs[@]}"; do
    nftin "$b" add rule inet nemesis out ip daddr "{ $(ipset "${as[@]}") }" drop
    nftin "$b" add rule inet nemesis in ip saddr "{ $(ipset "${as[@]}") }" drop
  done
}
rest() { local j l=(); for j in $(seq 0 $((n - 1))); do [[ ",$1," == *,$j,* ]] || l+=("$j"); done; local IFS=,; echo "${l[*]}"; }
primary() {
  local v
  v=$(awk -F'\t' '$3 == "1" && $6 != "-" { print $6 }' "$out/samples.tsv" | tail -n "$n" | sort -n | tail -1)
  echo $(( ${v:-0} % n ))
}

apply() {
  local kind=$1 target=$2
  case "$kind" in
    primary) target=$(primary); sever "$target" "$(rest "$target")" ;;
    minority|split) sever "$target" "$(rest "$target")" ;;
    oneway) nftin "$target" add rule inet nemesis out ip daddr "{ $(others "$target") }" drop ;;
    loss)
      nftin "$target" add rule inet nemesis out ip daddr "{ $(others "$target") }" numgen random mod 100 '<' 5 drop
      nftin "$target" add rule inet nemesis in ip saddr "{ $(others "$target") }" numgen random mod 100 '<' 5 drop ;;
    pause) event signal "vp$target" "STOP ${vpid[$target]}"; kill -STOP "${vpid[$target]}" ;;
    kill) event kill "vp$target" "${vpid[$target]}"; kill -KILL "${vpid[$target]}"; wait "${vpid[$target]}" 2>/dev/null ;;
    disk) dd if=/dev/zero of="$disk_dir/filler" bs=64k 2>/dev/null; sync ;;
  esac
  applied_target=$target
}
gone() { ! kill -0 "$1" 2>/dev/null; }
heal() {
  local kind=$1 target=$2 i
  for i in $(seq 0 $((n - 1))); do nftin "$i" flush table inet nemesis; done
  case "$kind" in
    pause) kill -CONT "${vpid[$target]}" ;;
    kill) start_vp "$target" ;;
    disk)
      rm -f "$disk_dir/filler"
      # A validator whose ledger or PBFT record write failed stops acknowledging and says so in
      # /healthz; it must be restarted once space is back (the restart catches up).
      local health
      health=$(ip netns exec "$br" curl -s -m 2 "http://$(ipof "$target"):9443/healthz")
      if [[ "$health" == *ledger*  || "$health" == *"cannot record"* ]]; then
        event restart "vp$target" "${vpid[$target]}"
        say "vp$target reported a failed write ($(tr -d '\n' <<<"$health" | cut -c1-200)); restarting it"
        kill -TERM "${vpid[$target]}"
        lib_wait_for 10 gone "${vpid[$target]}"
        kill -KILL "${vpid[$target]}" 2>/dev/null
        wait "${vpid[$target]}" 2>/dev/null
        start_vp "$target"
      fi ;;
  esac
}

sleep_until() { local d; d=$($py -c "print(max(0, $1 - ($(now))))"); sleep "$d"; }
while IFS=$'\t' read -r from to kind target; do
  sleep_until "$from"
  apply "$kind" "$target"
  event fault "$kind" "vp${applied_target//,/,vp}"
  say "fault: $kind on vp${applied_target//,/,vp} until ${to}s"
  sleep_until "$to"
  heal "$kind" "$applied_target"
  event heal "$kind" "vp${applied_target//,/,vp}"
  say "healed: $kind"
done <"$out/schedule.tsv"

for p in "${load_pids[@]}"; do wait "$p"; done
load_pids=()
event load-end - -
say "load ended; waiting (up to ${bound}s) for every validator to reach the same height"
same_height() {   # the last sample of each validator: all up, all at one height
  local same up
  same=$(tail -n "$n" "$out/samples.tsv" | awk -F'\t' '$3 == "1" { print $4 }' | sort -u | wc -l)
  up=$(tail -n "$n" "$out/samples.tsv" | awk -F'\t' '$3 == "1"' | wc -l)
  [ "$same" = 1 ] && [ "$up" = "$n" ]
}
# Not reaching it is the checker's to judge (liveness), not a reason to stop here.
lib_wait_for $((bound + 5)) same_height
sleep 2
event stop - -
for i in $(seq 0 $((n - 1))); do kill -TERM "${vpid[$i]}" 2>/dev/null; done
for i in $(seq 0 $((n - 1))); do
  wait "${vpid[$i]}"; st=$?
  event exit "vp$i" "${vpid[$i]} $st"
done
vpid=()
touch "$out/stop-sampler"
wait "$sampler" 2>/dev/null
if [ $mounted = 1 ]; then
  rm -f "$disk_dir/filler"
  cp -a "$disk_dir" "$disk_dir.copy" && umount "$disk_dir" && rmdir "$disk_dir" && mv "$disk_dir.copy" "$disk_dir" && mounted=0
fi
{
  echo "scripts/faults/nemesis.sh --validators $n --faults $faults --duration $duration --interval $interval --hold $hold --seed $seed --clients $clients --window $window --liveness-bound $bound --progress-bound $progress_bound${byzantine:+ --byzantine $byzantine} --disk-size $disk_size ${extra[*]+${extra[*]}}"
} >"$out/command.txt"
WEFT_BIN=$bin $py "$root/scripts/faults/nemesis-check.py" "$out" --liveness-bound "$bound" --progress-bound "$progress_bound" | tee "$out/check.txt"
verdict=${PIPESTATUS[0]}
$py "$root/scripts/faults/nemesis-report.py" "$out" || echo "nemesis: the report could not be made (see above)" >&2
say "report: $out/report.md"
exit "$verdict"
