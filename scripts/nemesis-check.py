#!/usr/bin/env python3
"""The nemesis checker: four verdicts on a finished run, one line each.

    scripts/nemesis-check.py RUN_DIR [--weft BIN] [--liveness-bound S] [--rss-limit-mb M] [--fd-limit F]

RUN_DIR is what scripts/nemesis.sh leaves (it can also be put together by hand):
  data/vp<i>/            each validator's data directory (peer.fileSystemPath), validators stopped
  acked/*.txt            every txid acknowledged to a client, one a line (weft load --acked)
  events.tsv             t<TAB>kind<TAB>node<TAB>detail: start (detail pid), kill (pid), exit (pid status),
                         fault/heal (what), load-end, ...
  samples.tsv            t node up height seq view tx_executed rss_kb fds (once a second per validator)

Verdicts:
  safety     `weft ledger verify` passes on every ledger, and at every height that two ledgers both
             hold the block hashes are equal (`weft ledger blocks`, block by block).
  acked      every acknowledged txid is in the final chain exactly once, and no txid is in it twice.
  liveness   after the last heal, every live validator commits a new block within the bound, and
             after the load ends every live validator reaches the same height within the bound.
  processes  no validator process ended except those the schedule killed or restarted (after a failed
             write on a full disk), the others exiting 0 at the SIGTERM at the end; and each one's RSS
             and open descriptors stayed under the limits.
Exit 0 when all four pass, 1 otherwise (2: the run directory is unusable).
"""
import argparse
import collections
import glob
import os
import subprocess
import sys


def read_tsv(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                rows.append(line.split("\t"))
    return rows


def ledger_blocks(weft, data_dir):
    """[(number, hash, [txids])], verify output line, verify ok."""
    verify = subprocess.run([weft, "ledger", "verify", "--path", data_dir], capture_output=True, text=True)
    verdict = (verify.stdout + verify.stderr).strip()
    dump = subprocess.run([weft, "ledger", "blocks", "--txids", "--path", data_dir], capture_output=True, text=True)
    blocks = []
    for line in dump.stdout.splitlines():
        parts = line.split(" ")
        blocks.append((int(parts[0]), parts[1], parts[3:]))
    return blocks, verdict, verify.returncode == 0 and dump.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--weft", default=os.environ.get("WEFT_BIN") or os.path.join(os.path.dirname(__file__), "..", ".build", "release", "weft"))
    ap.add_argument("--liveness-bound", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--rss-limit-mb", type=float, default=1024.0, help="per validator (default 1024)")
    ap.add_argument("--fd-limit", type=int, default=512, help="per validator (default 512)")
    args = ap.parse_args()
    run = args.run
    data_dirs = sorted(glob.glob(os.path.join(run, "data", "vp*")), key=lambda p: int(os.path.basename(p)[2:]))
    if not data_dirs:
        print(f"nemesis-check: no data/vp* in {run}", file=sys.stderr)
        return 2
    failures = 0

    # 1. Safety.
    ledgers = {}
    problems = []
    for d in data_dirs:
        name = os.path.basename(d)
        blocks, verdict, ok = ledger_blocks(args.weft, d)
        ledgers[name] = blocks
        if not ok:
            problems.append(f"{name}: {verdict}")
    by_height = collections.defaultdict(dict)
    for name, blocks in ledgers.items():
        for number, h, _ in blocks:
            by_height[number][name] = h
    forks = [(n, hs) for n, hs in sorted(by_height.items()) if len(set(hs.values())) > 1]
    if forks:
        n, hs = forks[0]
        problems.append(f"{len(forks)} heights with different blocks, the first {n}: " + ", ".join(f"{k}={v[:16]}" for k, v in hs.items()))
    heights = {name: len(b) for name, b in ledgers.items()}
    compared = sum(1 for hs in by_height.values() if len(hs) > 1)
    if problems:
        failures += 1
        print("safety: FAIL " + "; ".join(problems))
    else:
        print(f"safety: PASS {len(ledgers)} ledgers verified, {compared} heights held by two or more compared block by block, "
              f"all equal (heights {', '.join(f'{k} {v}' for k, v in heights.items())})")

    # 2. Acknowledged transactions: the final chain is the longest ledger (safety says they agree).
    longest = max(ledgers, key=lambda k: len(ledgers[k]))
    counts = collections.Counter()
    for _, _, txids in ledgers[longest]:
        counts.update(txids)
    acked = set()
    acked_lines = 0
    files = sorted(glob.glob(os.path.join(run, "acked", "*.txt")))
    for path in files:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    acked.add(line)
                    acked_lines += 1
    missing = [t for t in acked if counts[t] == 0]
    twice = [t for t, c in counts.items() if c > 1]
    if missing or twice or not files:
        failures += 1
        why = []
        if not files:
            why.append("no acked files")
        if missing:
            why.append(f"{len(missing)} acknowledged txids not in the chain of {longest} (e.g. {sorted(missing)[:3]})")
        if twice:
            why.append(f"{len(twice)} txids in the chain more than once (e.g. {sorted(twice)[:3]})")
        print("acked: FAIL " + "; ".join(why))
    else:
        print(f"acked: PASS {len(acked):,} acknowledged txids ({acked_lines:,} lines in {len(files)} files) each in the chain of "
              f"{longest} exactly once; {sum(counts.values()):,} transactions in {len(ledgers[longest])} blocks, none twice")

    # 3. Liveness, from the samples and the events.
    events = read_tsv(os.path.join(run, "events.tsv"))
    samples = read_tsv(os.path.join(run, "samples.tsv"))
    heals = [float(e[0]) for e in events if e[1] == "heal"]
    load_end = [float(e[0]) for e in events if e[1] == "load-end"]
    stop = [float(e[0]) for e in events if e[1] == "stop"]
    last_heal = max(heals) if heals else 0.0
    stopped_at = stop[-1] if stop else float("inf")
    by_node = collections.defaultdict(list)   # node -> [(t, up, height)], until the validators were stopped
    for s in samples:
        if float(s[0]) >= stopped_at:
            continue
        t, node, up, height = float(s[0]), s[1], s[2] == "1", int(s[3]) if s[3] not in ("", "-") else None
        by_node[node].append((t, up, height))
    live = sorted(n for n, rows in by_node.items() if rows and rows[-1][1])
    bound = args.liveness_bound
    why = []
    recovered_in = {}
    for node in live:
        rows = by_node[node]
        before = [h for t, up, h in rows if t <= last_heal and h is not None]
        base = max(before) if before else 0
        after = [t for t, up, h in rows if t > last_heal and h is not None and h > base]
        if not after:
            why.append(f"{node} committed nothing after the last heal (height {base})")
        else:
            recovered_in[node] = after[0] - last_heal
            if after[0] - last_heal > bound:
                why.append(f"{node} committed again only {after[0] - last_heal:.1f} s after the last heal")
    converged_at = None
    if load_end:
        end = load_end[-1]
        times = sorted({t for rows in by_node.values() for t, _, _ in rows if t >= end})
        for t in times:
            hs = []
            for node in live:
                row = [r for r in by_node[node] if abs(r[0] - t) < 0.01]
                hs.append(row[0][2] if row else None)
            if hs and None not in hs and len(set(hs)) == 1:
                converged_at = t
                break
        if converged_at is None or converged_at - end > bound:
            why.append("the live validators did not reach the same height within the bound after the load ended")
    else:
        why.append("no load-end event")
    if why:
        failures += 1
        print(f"liveness: FAIL (bound {bound:.0f} s) " + "; ".join(why))
    else:
        worst = max(recovered_in.values()) if recovered_in else 0
        print(f"liveness: PASS (bound {bound:.0f} s) after the last heal at {last_heal:.1f} s every one of {len(live)} live validators "
              f"committed again within {worst:.1f} s; after the load ended at {load_end[-1]:.1f} s all reached the same height "
              f"in {converged_at - load_end[-1]:.1f} s")

    # 4. Processes.
    started = {}   # pid -> node
    killed, exits, gone = set(), {}, {}
    for e in events:
        kind = e[1]
        if kind == "start":
            started[e[3]] = e[2]
        elif kind in ("kill", "restart"):
            killed.add(e[3])
        elif kind == "exit":
            pid, status = e[3].split(" ")[:2]
            exits[pid] = status
        elif kind == "gone":
            gone.setdefault(e[3], float(e[0]))
    why = []
    for pid, node in started.items():
        if pid in killed:
            continue
        if pid in gone and (not stop or gone[pid] < stop[-1]):
            why.append(f"{node} (pid {pid}) ended at {gone[pid]:.1f} s, not by the schedule")
        elif exits.get(pid) != "0":
            why.append(f"{node} (pid {pid}) exit status {exits.get(pid, 'unknown')} at the end")
    max_rss, max_fds = collections.defaultdict(int), collections.defaultdict(int)
    for s in samples:
        node = s[1]
        if len(s) >= 9 and s[7] not in ("", "-"):
            max_rss[node] = max(max_rss[node], int(s[7]))
        if len(s) >= 9 and s[8] not in ("", "-"):
            max_fds[node] = max(max_fds[node], int(s[8]))
    for node in sorted(max_rss):
        if max_rss[node] / 1024 > args.rss_limit_mb:
            why.append(f"{node} RSS reached {max_rss[node] / 1024:.0f} MB (limit {args.rss_limit_mb:.0f})")
    for node in sorted(max_fds):
        if max_fds[node] > args.fd_limit:
            why.append(f"{node} had {max_fds[node]} descriptors open (limit {args.fd_limit})")
    if not max_rss:
        why.append("no RSS samples")
    if why:
        failures += 1
        print("processes: FAIL " + "; ".join(why))
    else:
        print(f"processes: PASS {len(started)} validator processes, {len(killed)} killed or restarted by the schedule, the others exited 0 at the end; "
              f"max RSS {max(max_rss.values()) / 1024:.0f} MB (limit {args.rss_limit_mb:.0f}), "
              f"max descriptors {max(max_fds.values()) if max_fds else 0} (limit {args.fd_limit})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
