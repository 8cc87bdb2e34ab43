#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
The load matrix: weft load against a peer with the echo consenter, over
connections 1/16/256 x window 1/8/64 x payload 128 B/4 KiB. Writes a Markdown
table, a CSV and plots to a results folder: throughput and p99 against the
window, one line per connection count, one plot per payload (gnuplot; when
it is missing the script prints how to install it and skips the plots).
  scripts/bench/loadtest.sh [--target host:port] [--duration S] [--out DIR] [--quick] [--weft BIN]
    --target  an already running peer (default: start one on a port of its choosing)
    --weft    the weft binary to use (default: $WEFT_BIN, else swift build -c release, .build/release/weft)
    --quick   connections 1/16, window 1/8, payload 128 B, 1 s runs
    --set K=V pass a config key to the peer this script starts (repeatable),
              e.g. --set peer.socket.sendBuffer=262144 to compare knobs
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
root=$lib_root
target='' dur=3 out='' quick=0 sets=() weft='' args="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --target|--duration|--out|--weft|--set) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --target) target=$2; shift 2 ;;
    --duration) [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || lib_die "--duration must be a number of seconds, not '$2'"
                dur=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; dur=1; shift ;;
    --weft) weft=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) lib_die "unknown argument '$1'" ;;
  esac
done
conns=(1 16 256) windows=(1 8 64) sizes=(128 4096)
[ $quick = 1 ] && conns=(1 16) windows=(1 8) sizes=(128)
out=${out:-$root/results/loadtest-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
[ -z "$weft" ] || [ -x "$weft" ] || lib_die "--weft: no weft binary at $weft"
WEFT_BIN=${weft:-$(lib_weft)}
weft=$WEFT_BIN
echo "loadtest: $("$weft" version), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')" >"$out/about.txt"
echo "loadtest: command: scripts/bench/loadtest.sh $args" >>"$out/about.txt"
if [ -z "$target" ]; then
  ulimit -n 65536 2>/dev/null || true
  # Port 0: lib_start_peer reads the port it got from its ready file.
  lib_start_peer "$out/peer.log" --peer-id loadtest --ops-listen "" --consensus echo \
      --data-dir "$out/peer" --log-level info --set peer.discovery.persist=false ${sets[@]+"${sets[@]}"}
  target=127.0.0.1:$lib_peer_port
fi
csv=$out/results.csv
echo "connections,window,payload,msgs_per_s,mb_per_s,p50_us,p90_us,p99_us,p999_us,max_us,errors" >"$csv"
total=$(( ${#conns[@]} * ${#windows[@]} * ${#sizes[@]} )); n=0
for s in "${sizes[@]}"; do for c in "${conns[@]}"; do for w in "${windows[@]}"; do
  n=$((n + 1))
  echo "loadtest: [$n/$total] $c connections x window $w x $s B" >&2
  threads=1; [ "$c" -lt 16 ] || threads=2
  json=$("$weft" load --target "$target" -c "$c" -w "$w" -s "$s" -d "$dur" --warmup 1 --json --quiet -t "$threads" || echo '{}')
  python3 - "$c" "$w" "$s" "$json" >>"$csv" <<'PY'
import json, sys
c, w, s, raw = sys.argv[1:5]
d = json.loads(raw) if raw.strip().startswith("{") else {}
keys = ["msgs_per_s", "mb_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "errors"]
print(",".join([c, w, s] + [f"{d.get(k, 0):.1f}" if k != "errors" else str(d.get(k, -1)) for k in keys]))
PY
done; done; done
python3 - "$csv" "$out/results.md" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
lines = ["| connections | window | payload B | msgs/s | MB/s | p50 us | p99 us | p99.9 us | errors |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    lines.append(f"| {r['connections']} | {r['window']} | {r['payload']} | {float(r['msgs_per_s']):.0f} | {float(r['mb_per_s']):.1f} | {r['p50_us']} | {r['p99_us']} | {r['p999_us']} | {r['errors']} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "loadtest: gnuplot is not installed, so no plots; to have them: sudo apt-get install gnuplot-nox (Debian/Ubuntu), then run this again" >&2
else
  for s in "${sizes[@]}"; do
    # One data file per connection count: window, msgs/s, p99 (rows in window order).
    plots_tp='' plots_p99=''
    for c in "${conns[@]}"; do
      label="$c connection$([ "$c" = 1 ] || echo s)"
      awk -F, -v s="$s" -v c="$c" 'NR > 1 && $3 == s && $1 == c { print $2 "," $4 "," $8 }' "$csv" | sort -t, -k1,1n >"$out/plot-$s-c$c.dat"
      plots_tp+="${plots_tp:+, }\"$out/plot-$s-c$c.dat\" using 1:2 with linespoints lw 2 title \"$label\""
      plots_p99+="${plots_p99:+, }\"$out/plot-$s-c$c.dat\" using 1:3 with linespoints lw 2 title \"$label\""
    done
    gnuplot <<GP
set datafile separator ","
set terminal pngcairo size 900,500 noenhanced
set logscale x 2
set xtics ($(IFS=,; echo "${windows[*]}"))
set xrange [${windows[0]}/1.5:${windows[-1]}*1.5]
set xlabel "window (messages in flight per connection)"
set key left top
set grid
set output "$out/throughput-$s.png"
set ylabel "echoes per second"
set format y "%.1s%c"
set yrange [0:*]
set title "weft echo throughput, payload $s B"
plot $plots_tp
set output "$out/p99-$s.png"
set ylabel "p99 round trip (us)"
set format y "%g"
set logscale y 10
set yrange [*:*]
set title "weft echo p99 latency, payload $s B"
plot $plots_p99
GP
  done
fi
echo "loadtest: results in $out" >&2
