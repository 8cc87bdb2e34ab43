#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
CPU time per thread of a running process over an interval: where a peer's
time goes (the reactor thread is named weft-reactor; the consensus fan and
the ledger run on libdispatch worker threads, named after the process).
  scripts/bench/thread-cpu.sh PID [SECONDS=5]
Prints one line per thread that used CPU: thread id, name, % of one core.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
case "${1:-}" in
  "") lib_die "needs the PID of a running process" ;;
  -*) lib_die "unknown option '$1'" ;;
esac
pid=$1 secs=${2:-5}
[[ "$pid" =~ ^[0-9]+$ ]] || lib_die "PID must be a process id, not '$pid'"
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || lib_die "SECONDS must be a positive number, not '$secs'"
[ $# -le 2 ] || lib_die "unexpected argument '$3'"
[ -d "/proc/$pid" ] || { echo "thread-cpu: no process $pid" >&2; exit 1; }
hz=$(getconf CLK_TCK)
snapshot() {   # tid name ticks, one line per thread
  for t in /proc/"$pid"/task/*; do
    [ -r "$t/stat" ] || continue
    # Fields after the ")" that closes the name: state is field 3; utime 14, stime 15.
    local stat name rest
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    name=$(cat "$t/comm" 2>/dev/null || echo '?')
    rest=${stat##*) }
    read -r -a fields <<<"$rest"
    echo "${t##*/} $name $(( fields[11] + fields[12] ))"
  done
}
before=$(snapshot)
sleep "$secs"     # the measured interval
after=$(snapshot)
join <(echo "$before" | sort -k1,1) <(echo "$after" | sort -k1,1) |
  awk -v hz="$hz" -v s="$secs" '{ d = $5 - $3; if (d > 0) printf "%-8s %-16s %6.1f%%\n", $1, $2, 100 * d / hz / s }' |
  sort -k3 -rn
