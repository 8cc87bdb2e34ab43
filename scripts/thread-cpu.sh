#!/usr/bin/env bash
# CPU time per thread of a running process over an interval: where a peer's
# time goes (the reactor thread is named weft-reactor; the consensus fan and
# the ledger run on libdispatch worker threads, named after the process).
#   scripts/thread-cpu.sh PID [SECONDS=5]
# Prints one line per thread that used CPU: thread id, name, % of one core.
set -euo pipefail
case "${1:-}" in
  -h|--help|"") sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit $? ;;
  -*) echo "thread-cpu: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac
pid=$1 secs=${2:-5}
[[ "$pid" =~ ^[0-9]+$ ]] || { echo "thread-cpu: PID must be a process id, not '$pid' (see --help)" >&2; exit 2; }
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "thread-cpu: SECONDS must be a positive number, not '$secs' (see --help)" >&2; exit 2; }
[ $# -le 2 ] || { echo "thread-cpu: unexpected argument '$3' (see --help)" >&2; exit 2; }
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
    set -- $rest
    echo "${t##*/} $name $(( ${12} + ${13} ))"
  done
}
before=$(snapshot)
sleep "$secs"
after=$(snapshot)
join <(echo "$before" | sort -k1,1) <(echo "$after" | sort -k1,1) |
  awk -v hz="$hz" -v s="$secs" '{ d = $5 - $3; if (d > 0) printf "%-8s %-16s %6.1f%%\n", $1, $2, 100 * d / hz / s }' |
  sort -k3 -rn
