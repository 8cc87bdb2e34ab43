#!/usr/bin/env python3
"""Samples N validators once a second for scripts/faults/nemesis.sh (run inside the bridge namespace).

    nemesis-sample.py RUN_DIR N [INTERVAL]

Each round appends one line per validator to RUN_DIR/samples.tsv:
    t node up height seq view tx_executed rss_kb fds
t: seconds since RUN_DIR/t0 (the run's epoch), the same for the whole round; up: 1 if /metrics
answered within 0.5 s; height, seq, view, tx_executed: weft_chain_height, weft_pbft_sequence_executed,
weft_pbft_view, weft_pbft_transactions_executed_total ('-' when not answered); rss_kb and fds from
/proc/<pid> (pid from RUN_DIR/pids/vp<i>; '-' when it is not running). A pid that was running and
is gone gets a 'gone' event in RUN_DIR/events.tsv. Ends when RUN_DIR/stop-sampler exists.
"""
import concurrent.futures
import os
import sys
import time
import urllib.request

if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)
if not 3 <= len(sys.argv) <= 4 or any(a.startswith("-") for a in sys.argv[1:]) or not sys.argv[2].isdigit():
    print(f"nemesis-sample: needs RUN_DIR N [INTERVAL], not '{' '.join(sys.argv[1:])}' (see --help)", file=sys.stderr)
    sys.exit(2)
run, n = sys.argv[1], int(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
with open(os.path.join(run, "t0")) as f:
    t0 = float(f.read().strip())
wanted = {"weft_chain_height": 0, "weft_pbft_sequence_executed": 1, "weft_pbft_view": 2, "weft_pbft_transactions_executed_total": 3}


def scrape(i):
    try:
        with urllib.request.urlopen(f"http://10.213.0.{i + 1}:9443/metrics", timeout=0.5) as r:
            text = r.read().decode()
    except Exception:
        return None
    values = ["-"] * 4
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) == 2 and parts[0] in wanted:
            values[wanted[parts[0]]] = str(int(float(parts[1])))
    return values


def proc(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next((l.split()[1] for l in f if l.startswith("VmRSS:")), "-")
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        return rss, str(len(os.listdir(f"/proc/{pid}/fd")))
    except Exception:
        return None


seen = {}
pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(n, 32))
out = open(os.path.join(run, "samples.tsv"), "a", buffering=1)
events = os.path.join(run, "events.tsv")
next_at = time.time()
while not os.path.exists(os.path.join(run, "stop-sampler")):
    t = time.time() - t0
    results = list(pool.map(scrape, range(n)))
    lines = []
    for i in range(n):
        node = f"vp{i}"
        try:
            with open(os.path.join(run, "pids", node)) as f:
                pid = f.read().strip()
        except Exception:
            pid = ""
        p = proc(pid) if pid else None
        if p is None and pid and seen.get(node) == pid:
            with open(events, "a") as e:
                e.write(f"{t:.2f}\tgone\t{node}\t{pid}\n")
            seen[node] = None
        elif p is not None:
            seen[node] = pid
        m = results[i]
        up = "1" if m is not None else "0"
        m = m or ["-"] * 4
        rss, fds = p if p else ("-", "-")
        lines.append(f"{t:.2f}\t{node}\t{up}\t{m[0]}\t{m[1]}\t{m[2]}\t{m[3]}\t{rss}\t{fds}\n")
    out.write("".join(lines))
    next_at += interval
    time.sleep(max(0.05, next_at - time.time()))
