#!/usr/bin/env python3
"""The nemesis checker: five verdicts on a finished run, one line each.

    scripts/faults/nemesis-check.py RUN_DIR [--weft BIN] [--liveness-bound S] [--progress-bound S]
                             [--rss-limit-mb M] [--fd-limit F]

RUN_DIR is what scripts/faults/nemesis.sh leaves (it can also be put together by hand):
  data/vp<i>/            each validator's data directory (peer.fileSystemPath), validators stopped
  acked/*.txt            every txid acknowledged to a client, one a line (weft load --acked)
  events.tsv             t<TAB>kind<TAB>node<TAB>detail: start (detail pid), kill (pid), exit (pid status),
                         fault/heal (node: the fault's kind, detail: its targets), byzantine (node, mode),
                         load-start, load-end, ...
  command.txt            the command line (its --seed is quoted in a progress failure)
  samples.tsv            t node up height seq view tx_executed rss_kb fds (once a second per validator)

Verdicts:
  safety     `weft ledger verify` passes on every ledger, and at every height that two ledgers both
             hold the block hashes are equal (`weft ledger blocks`, block by block).
  acked      every acknowledged txid is in the final chain exactly once, and no txid is in it twice.
  liveness   after the last heal, every live validator commits a new block within the bound, and
             after the load ends every live validator reaches the same height within the bound.
  progress   per fault: in every window of the load (each fault, each healed gap between faults) in
             which a quorum (N+f+2)/2 of correct, connected validators exists for at least the progress
             bound, those validators commit a new block within the bound of the window's start
             (default 2 x (timeout.request + timeout.viewchange) = 8 s). A window that breaks it is a
             FAIL naming the seed, the fault and its time.
  processes  no validator process ended except those the schedule killed or restarted (after a failed
             write on a full disk), the others exiting 0 at the SIGTERM at the end; and each one's RSS
             and open descriptors stayed under the limits.
Validators named by a `byzantine` event are not correct: their ledgers are left out of safety and
liveness, and they never count toward a quorum.
Exit 0 when all five pass, 1 otherwise (2: the run directory is unusable).
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
    ap.add_argument("--progress-bound", type=float, default=8.0,
                    help="seconds within which a quorum of correct, connected validators commits again (default 8)")
    ap.add_argument("--rss-limit-mb", type=float, default=1024.0, help="per validator (default 1024)")
    ap.add_argument("--fd-limit", type=int, default=512, help="per validator (default 512)")
    args = ap.parse_args()
    run = args.run
    data_dirs = sorted(glob.glob(os.path.join(run, "data", "vp*")), key=lambda p: int(os.path.basename(p)[2:]))
    if not data_dirs:
        print(f"nemesis-check: no data/vp* in {run}", file=sys.stderr)
        return 2
    failures = 0
    events = read_tsv(os.path.join(run, "events.tsv")) if os.path.exists(os.path.join(run, "events.tsv")) else []
    byzantine = sorted({e[2] for e in events if e[1] == "byzantine"})
    data_dirs = [d for d in data_dirs if os.path.basename(d) not in byzantine]

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
    samples = [s for s in read_tsv(os.path.join(run, "samples.tsv")) if s[1] not in byzantine]
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

    # 4. Progress, fault by fault.
    failures += check_progress(run, events, samples, byzantine, args.progress_bound)

    # 5. Processes.
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


def check_progress(run, events, samples, byzantine, bound):
    """The progress verdict: prints its line, returns 1 on a FAIL."""
    names = sorted({e[2] for e in events if e[1] == "start"}, key=lambda v: int(v[2:]))
    n = len(names)
    f = (n - 1) // 3
    quorum = (n + f + 2) // 2
    seed = "?"
    try:
        words = open(os.path.join(run, "command.txt")).read().split()
        seed = words[words.index("--seed") + 1]
    except (OSError, ValueError, IndexError):
        pass
    load_start = next((float(e[0]) for e in events if e[1] == "load-start"), None)
    load_end = next((float(e[0]) for e in events if e[1] == "load-end"), None)
    if n < 4 or load_start is None or load_end is None:
        print("progress: FAIL no validators or no load-start/load-end events")
        return 1
    # The windows: each fault from its start to its heal, and the healed gaps between them.
    windows, open_faults = [], {}
    cursor = load_start
    for e in events:
        t, kind = float(e[0]), e[1]
        if kind == "fault":
            if not open_faults and t > cursor:
                windows.append((cursor, t, "healed", ""))
            open_faults[(e[2], e[3])] = t
        elif kind == "heal" and (e[2], e[3]) in open_faults:
            windows.append((open_faults.pop((e[2], e[3])), t, e[2], e[3]))
            if not open_faults:
                cursor = t
    if not open_faults and load_end > cursor:
        windows.append((cursor, load_end, "healed", ""))
    heights = collections.defaultdict(list)   # node -> [(t, up, height)]
    for s in samples:
        heights[s[1]].append((float(s[0]), s[2] == "1", int(s[3]) if s[3] not in ("", "-") else None))
    correct = [v for v in names if v not in byzantine]

    def best(nodes, t0, t1):
        """The highest height any of `nodes` reported in [t0, t1]."""
        hs = [h for v in nodes for t, up, h in heights[v] if t0 <= t <= t1 and up and h is not None]
        return max(hs) if hs else None

    why, checked, skipped = [], 0, 0
    for start, end, kind, targets in sorted(windows):
        cut = {v for v in targets.split(",") if v}
        if kind == "split":
            sides = [[v for v in correct if v in cut], [v for v in correct if v not in cut]]
            side = max(sides, key=len)
        elif kind in ("loss", "healed"):
            side = correct
        else:
            side = [v for v in correct if v not in cut]
        if len(side) < quorum or end - start < bound:
            skipped += 1
            continue
        checked += 1
        base = best(side, start - 1.5, start)
        moved = [t for t in sorted({t for v in side for t, _, _ in heights[v]}) if start < t <= end
                 and (best(side, t, t) or 0) > (base or 0)]
        if not moved or moved[0] - start > bound:
            waited = (moved[0] if moved else end) - start
            what = "between faults" if kind == "healed" else f"{kind} {targets}"
            why.append(f"seed {seed}: {what} at {start:.1f}-{end:.1f} s: a quorum of {len(side)} correct, connected "
                       f"validators ({','.join(side)}) committed nothing for {waited:.1f} s (height {base})")
    if why:
        print(f"progress: FAIL (bound {bound:.0f} s) " + "; ".join(why))
        return 1
    print(f"progress: PASS (bound {bound:.0f} s) in each of {checked} windows with a quorum of correct, connected validators "
          f"for at least the bound, commits resumed within it ({skipped} windows without a quorum or shorter than the bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
