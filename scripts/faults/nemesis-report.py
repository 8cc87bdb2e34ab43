#!/usr/bin/env python3
"""The report of a nemesis run: RUN_DIR/report.md and RUN_DIR/timeline.png.

    nemesis-report.py RUN_DIR

The timeline: committed transactions per second on each validator (the rate of
weft_pbft_transactions_executed_total between samples), fault intervals shaded
and labelled, view changes (a rise of weft_pbft_view on any validator) as dashed
lines. Needs python3-matplotlib (installed with apt-get if missing and run as
root); without it the Markdown is written alone.
"""
import collections
import glob
import json
import os
import subprocess
import sys

if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)
if len(sys.argv) != 2 or sys.argv[1].startswith("-") or not os.path.isdir(sys.argv[1]):
    print(f"nemesis-report: needs one RUN_DIR (a folder), not '{' '.join(sys.argv[1:])}' (see --help)", file=sys.stderr)
    sys.exit(2)
run = sys.argv[1]


def tsv(name):
    path = os.path.join(run, name)
    if not os.path.exists(path):
        return []
    return [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]


events = tsv("events.tsv")
samples = tsv("samples.tsv")
series = collections.defaultdict(list)  # node -> [(t, tx, view, height)]
for s in samples:
    if s[2] == "1" and s[6] != "-":
        series[s[1]].append((float(s[0]), int(s[6]), int(s[5]) if s[5] != "-" else 0, int(s[3])))
faults = []
open_fault = None
for e in events:
    if e[1] == "fault":
        open_fault = (float(e[0]), e[2], e[3])
    elif e[1] == "heal" and open_fault:
        faults.append((open_fault[0], float(e[0]), open_fault[1], open_fault[2]))
        open_fault = None
views = []
last_view = 0
for t in sorted({float(s[0]) for s in samples}):
    pass
by_time = collections.defaultdict(list)
for node, rows in series.items():
    for t, _, v, _ in rows:
        by_time[t].append(v)
for t in sorted(by_time):
    v = max(by_time[t])
    if v > last_view:
        views.append((t, v))
        last_view = v

png = os.path.join(run, "timeline.png")
made_png = False
try:
    import matplotlib
except ImportError:
    if os.geteuid() == 0:
        print("nemesis-report: installing python3-matplotlib (apt-get) for the timeline", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3-matplotlib"], stdout=subprocess.DEVNULL)
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    curves = {}
    rates = []
    for node in sorted(series, key=lambda k: int(k[2:])):
        rows = series[node]
        xs, ys = [], []
        for (t1, x1, _, _), (t2, x2, _, _) in zip(rows, rows[1:]):
            if t2 > t1 and x2 >= x1:
                xs.append(t2)
                ys.append((x2 - x1) / (t2 - t1))
        curves[node] = (xs, ys)
        rates += ys
    # Catching up after a restart or a state transfer executes many blocks in one second:
    # the y axis is cut at 1.5 x the 98th percentile, so the steady rate stays readable.
    rates.sort()
    top = max(1.0, 1.5 * rates[int(0.98 * (len(rates) - 1))]) if rates else 1.0
    end_t = max([t for xs, _ in curves.values() for t in xs] + [b for _, b, _, _ in faults] + [60.0])
    span = 300.0 if end_t > 400 else end_t + 1
    panels = max(1, int(-(-end_t // span)))
    fig, axes = plt.subplots(panels, 1, figsize=(12, 3.2 * panels + 0.6), squeeze=False)
    for p in range(panels):
        ax = axes[p][0]
        lo, hi = p * span, (p + 1) * span
        for node, (xs, ys) in curves.items():
            ax.plot(xs, ys, label=node, linewidth=1)
        for k, (a, b, kind, target) in enumerate(faults):
            if b < lo or a > hi:
                continue
            ax.axvspan(a, b, color="tab:red", alpha=0.12)
            ax.text(a + 0.5, top * (1.12 if k % 2 == 0 else 1.02), f"{kind} {target}", fontsize=7, va="bottom", clip_on=True)
        for t, v in views:
            if lo <= t <= hi:
                ax.axvline(t, color="grey", linestyle="--", linewidth=0.8)
                ax.text(t + 0.5, top * 0.55, f"v{v}", rotation=90, fontsize=7, color="grey", clip_on=True)
        ax.set_xlim(lo, min(hi, end_t + 1))
        ax.set_ylim(0, top * 1.25)
        ax.set_ylabel("committed tx/s")
        if p == 0:
            ax.set_title(f"nemesis: {os.path.basename(os.path.abspath(run))} (per validator; shaded: faults; dashed: new views)")
            ax.legend(loc="upper right", fontsize=8, ncol=4)
    axes[-1][0].set_xlabel("seconds since start")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    made_png = True
except ImportError:
    print("nemesis-report: no matplotlib (apt-get install python3-matplotlib); the Markdown report has no timeline", file=sys.stderr)

command = open(os.path.join(run, "command.txt")).read().strip() if os.path.exists(os.path.join(run, "command.txt")) else "?"
check = open(os.path.join(run, "check.txt")).read().strip() if os.path.exists(os.path.join(run, "check.txt")) else "(not checked)"
loads = []
for path in sorted(glob.glob(os.path.join(run, "load", "*.json"))):
    try:
        loads.append((os.path.basename(path)[:-5], json.load(open(path))))
    except Exception:
        loads.append((os.path.basename(path)[:-5], None))

lines = [f"# Nemesis run {os.path.basename(os.path.abspath(run))}", "", "```", command, "```", "", "## Verdicts", "", "```", check, "```", ""]
if made_png:
    lines += ["## Timeline", "", "![timeline](timeline.png)", "",
              "Committed tx/s per validator (weft_pbft_transactions_executed_total between 1 s samples); "
              "shaded: fault intervals; dashed: a new view on some validator (vN); the y axis is cut at 1.5 x the "
              "98th percentile (catching up after a restart or a state transfer executes many blocks in one second).", ""]
lines += ["## Faults", "", "| from s | to s | fault | on | blocks committed during (highest height) | view 5 s after the heal |", "|---:|---:|---|---|---:|---:|"]


def height_at(t):
    """The highest height any validator reported at or before t."""
    return max(([r[3] for rows in series.values() for r in rows if r[0] <= t] or [0]))


def view_at(t):
    return max([v for tt, v in views if tt <= t], default=0)


for a, b, kind, target in faults:
    lines.append(f"| {a:.1f} | {b:.1f} | {kind} | {target} | {height_at(b) - height_at(a)} blocks | {view_at(b + 5)} |")
lines += ["", "## Clients", "", "| client | sent | acknowledged | failed | unanswered | reconnects | failed by reason |", "|---|---:|---:|---:|---:|---:|---|"]
for name, r in loads:
    if r is None:
        lines.append(f"| {name} | (no summary) | | | | | |")
    else:
        reasons = "; ".join(f"{v} {k}" for k, v in sorted(r.get("failed_by_reason", {}).items(), key=lambda kv: -kv[1]))
        lines.append(f"| {name} | {r['sent']:,} | {r.get('acknowledged', r['received']):,} | {r.get('failed', 0):,} | "
                     f"{r.get('unanswered', 0):,} | {r.get('reconnects', 0)} | {reasons} |")
max_rss, max_fds = collections.defaultdict(int), collections.defaultdict(int)
for s in samples:
    if s[7] != "-":
        max_rss[s[1]] = max(max_rss[s[1]], int(s[7]))
    if s[8] != "-":
        max_fds[s[1]] = max(max_fds[s[1]], int(s[8]))
lines += ["", "## Validators", "", "| validator | final height | max RSS MB | max descriptors |", "|---|---:|---:|---:|"]
for node in sorted(max_rss, key=lambda k: int(k[2:])):
    h = series[node][-1][3] if series.get(node) else "-"
    lines.append(f"| {node} | {h} | {max_rss[node] / 1024:.0f} | {max_fds[node]} |")
lines += ["", "## Events", "", "```"] + ["\t".join(e) for e in events] + ["```", ""]
open(os.path.join(run, "report.md"), "w").write("\n".join(lines))
print(f"nemesis-report: wrote {os.path.join(run, 'report.md')}" + (f" and {png}" if made_png else ""), file=sys.stderr)
