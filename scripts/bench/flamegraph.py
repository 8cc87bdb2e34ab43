#!/usr/bin/env python3
"""A flame graph (PNG) and the top frames from `perf script` output.

    flamegraph.py PERF_SCRIPT.txt OUT.png [--title T] [--top N]

Reads the stacks `perf script` prints (one sample: a header line, then one
frame a line, innermost first, then a blank line), folds them, draws each
frame as a box as wide as its share of the samples (root at the bottom,
callees above; frames under 0.5 % are not labelled), and prints the N
frames with the most samples of their own ("self") and in all ("total").
Swift symbols are demangled by `swift demangle --simplified` when it is on
PATH. Needs python3-matplotlib (Debian's: run it with /usr/bin/python3).
"""
import collections
import shutil
import signal
import subprocess
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends it quietly

args = sys.argv[1:]
if any(a in ("-h", "--help") for a in args):
    print(__doc__.strip())
    sys.exit(0)
title, top = "", 20
while "--title" in args:
    i = args.index("--title"); title = args[i + 1]; del args[i:i + 2]
while "--top" in args:
    i = args.index("--top"); top = int(args[i + 1]); del args[i:i + 2]
if len(args) != 2:
    print(f"flamegraph: needs PERF_SCRIPT.txt and OUT.png, not '{' '.join(sys.argv[1:])}' (see --help)", file=sys.stderr)
    sys.exit(2)


def frames_of(path):
    """Each sample's frames, root first."""
    stack = []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield list(reversed(stack))
            stack = []
            continue
        if line[0] in " \t":
            parts = line.strip().split(None, 1)
            sym = parts[1] if len(parts) > 1 else parts[0]
            sym = sym.rsplit(" (", 1)[0]          # drop " (library)"
            sym = sym.split("+0x")[0]
            stack.append(sym)
    if stack:
        yield list(reversed(stack))


samples = list(frames_of(args[0]))
if not samples:
    print("flamegraph: no samples in " + args[0], file=sys.stderr)
    sys.exit(1)
names = sorted({f for s in samples for f in s})
if shutil.which("swift"):
    out = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                         capture_output=True, text=True).stdout.split("\n")
    pretty = dict(zip(names, out)) if len(out) >= len(names) else {}
else:
    pretty = {}


def short(name):
    p = pretty.get(name, name) or name
    p = p.replace("specialized ", "").replace("merged ", "")
    return p if len(p) < 90 else p[:87] + "..."


folded = collections.Counter(tuple(short(f) for f in s) for s in samples)
total = sum(folded.values())
self_count, total_count = collections.Counter(), collections.Counter()
for stack, n in folded.items():
    self_count[stack[-1]] += n
    for f in set(stack):
        total_count[f] += n
print(f"{total} samples")
print(f"{'self %':>7} {'total %':>8}  frame")
for f, n in self_count.most_common(top):
    print(f"{100 * n / total:7.1f} {100 * total_count[f] / total:8.1f}  {f}")

import matplotlib  # noqa: E402  (after --help and the text report)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

tree = {}
for stack, n in folded.items():
    node = tree
    for f in stack:
        entry = node.setdefault(f, [0, {}])
        entry[0] += n
        node = entry[1]
depth = max(len(s) for s in folded)
fig, ax = plt.subplots(figsize=(16, max(4, 0.22 * depth + 1)))
palette = ["#e8743b", "#f0a35e", "#f5c26b", "#e05d44", "#f4b183"]


def draw(node, x, level):
    for i, (name, (n, children)) in enumerate(sorted(node.items())):
        width = n / total
        ax.add_patch(plt.Rectangle((x, level), width, 0.95, color=palette[(level + i) % len(palette)], linewidth=0))
        if width > 0.01:
            ax.text(x + 0.002, level + 0.45, name, fontsize=6, va="center", clip_on=True)
        draw(children, x, level + 1)
        x += width


draw(tree, 0.0, 0)
ax.set_xlim(0, 1)
ax.set_ylim(0, depth)
ax.set_yticks([])
ax.set_xlabel(f"share of {total} samples")
ax.set_title(title or "flame graph")
fig.tight_layout()
fig.savefig(args[1], dpi=110)
print("wrote " + args[1])
