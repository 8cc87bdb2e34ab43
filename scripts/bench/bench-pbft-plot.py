#!/usr/bin/env python3
"""The scale plot: committed tx/s, commit latency and CPU per transaction against the number of validators.

    bench-pbft-plot.py results/bench-pbft-scale.jsonl OUT.png

Reads the JSON lines `scripts/bench/bench-pbft.sh` appends (one per consenter and run), keeps the last
run of each (consenter, validators) without TLS, and draws against N: tx/s (left axis) and p50/p99
latency (right axis, log scale) in the left panel; the validators' CPU µs per committed transaction,
summed over them, in the right panel (runs that recorded it). Needs python3-matplotlib (Debian's: run
it with /usr/bin/python3).
"""
import json
import sys

# Before matplotlib is imported: --help works where it is missing.
if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)
if len(sys.argv) != 3 or any(a.startswith("-") for a in sys.argv[1:]):
    print(f"bench-pbft-plot: needs the JSONL file and OUT.png, not '{' '.join(sys.argv[1:])}' (see --help)", file=sys.stderr)
    sys.exit(2)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        r = json.loads(line)
        if not r.get("tls"):
            rows[(r["consenter"], r["validators"])] = r
fig, (ax, cpu) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
ax2 = ax.twinx()
for consenter, style in (("pbft", "-o"), ("noops", "-s")):
    points = sorted((n, r) for (c, n), r in rows.items() if c == consenter)
    if not points:
        continue
    ns = [n for n, _ in points]
    ax.plot(ns, [r["tx_per_s"] for _, r in points], style, color="tab:blue", label=f"{consenter} committed tx/s")
    ax2.plot(ns, [r["p50_ms"] for _, r in points], style, color="tab:orange", alpha=0.7, label=f"{consenter} p50 ms")
    ax2.plot(ns, [r["p99_ms"] for _, r in points], style, color="tab:red", alpha=0.7, label=f"{consenter} p99 ms")
    measured = [(n, r["cpu_us_per_tx"]) for n, r in points if r.get("cpu_us_per_tx")]
    if measured:
        cpu.plot([n for n, _ in measured], [u for _, u in measured], style, color="tab:green", label=f"{consenter}")
ax.set_xlabel("validators (N; f = (N-1)/3)")
ax.set_ylabel("committed tx/s (all clients)")
ax2.set_ylabel("commit latency, ms (log)")
ax2.set_yscale("log")
ax.set_ylim(bottom=0)
ns = sorted({n for _, n in rows})
ax.set_xticks(ns)
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = ax2.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
ax.set_title("Weft PBFT on one 2-core machine: throughput and latency against N", fontsize=10)
cpu.set_xlabel("validators (N)")
cpu.set_ylabel("CPU µs per committed tx, all validators")
cpu.set_ylim(bottom=0)
cpu.set_xticks(ns)
cpu.legend(fontsize=8, loc="upper left")
cpu.set_title("CPU per committed transaction, summed over the validators", fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
print(f"bench-pbft-plot: wrote {sys.argv[2]}", file=sys.stderr)
