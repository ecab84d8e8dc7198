#!/usr/bin/env python3
"""Where a qcc model's run time goes, from a QCC_TRACE file (runtime/src/Trace.h).

  QCC_TRACE=/tmp/t.txt build/bin/qcc-run PREFIX --input ... --threads 2 --repeat 20 --warmup 3
  .venv/bin/python bench/trace_report.py /tmp/t.txt [--so PREFIX.so] [--skip 3]

Per run (the first --skip runs are left out as warm-ups), medians over runs:
  wall      the qcc_model_run span
  regions   time the caller spent inside parallel_for regions (pool or inline)
  serial    wall - regions: code outside any parallel_for (serial kernels, copies)
  wake      per pool region, the time from the region's start to the first index a worker
            started (regions that no worker joined count in "unjoined")
  tail      per pool region, the time from the caller's last index end to the region's end
            (the caller waiting for a worker's last index)
  busy      per thread (0 = the caller, 1 + w = worker w), the time spent running indices
Per function (outlined main_parallel_* names when --so names the artifact's library): regions
per run, median region length, time per run, share of the indices the workers ran.
"""
from __future__ import annotations

import argparse
import bisect
import collections
import statistics
import subprocess
import sys
from pathlib import Path


def symbols(so: Path | None) -> dict[str, str]:
    """'lib.so+0xOFF' -> symbol name, from nm (empty when nm or the file is missing)."""
    if so is None:
        return {}
    try:
        out = subprocess.run(["nm", str(so)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    names = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tT":
            names[f"{so.name}+0x{int(parts[0], 16):x}"] = parts[2]
    return names


def parse(path: Path):
    events = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 6:
            raise SystemExit(f"{path}:{lineno}: expected 6 fields, got {len(parts)}")
        kind, slot, fn, n, start, end = parts
        events.append((kind, int(slot), fn, int(n), int(start), int(end)))
    return events


def median(xs):
    return statistics.median(xs) if xs else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace", type=Path)
    ap.add_argument("--so", type=Path, help="the artifact's .so, to name outlined functions")
    ap.add_argument("--skip", type=int, default=3, help="warm-up runs to leave out (default 3)")
    args = ap.parse_args()
    if not args.trace.is_file():
        print(f"trace_report: no such file: {args.trace}", file=sys.stderr)
        return 1
    names = symbols(args.so)
    events = parse(args.trace)
    runs = sorted((e for e in events if e[0] == "run"), key=lambda e: e[4])[args.skip:]
    if not runs:
        print("trace_report: no runs after the warm-ups", file=sys.stderr)
        return 1
    threads = max((e[3] for e in events if e[0] == "pool"), default=1)
    starts = [r[4] for r in runs]

    def run_of(t):
        i = bisect.bisect_right(starts, t) - 1
        return i if i >= 0 and t <= runs[i][5] else None

    per_run = [collections.defaultdict(float) for _ in runs]
    fn_stats = collections.defaultdict(lambda: {"lengths": [], "worker": 0, "all": 0, "kinds": set()})
    regions = {}  # (run, fn, start) -> [region event, caller last end, first worker start]
    for e in events:
        kind, slot, fn, n, start, end = e
        r = run_of(start)
        if r is None:
            continue
        name = names.get(fn, fn)
        if kind in ("region", "inline") and slot == 0:
            per_run[r]["regions"] += (end - start) / 1e6
            per_run[r]["count_" + kind] += 1
            st = fn_stats[name]
            st["lengths"].append(end - start)
            st["kinds"].add(kind)
            if kind == "region":
                regions[(fn, start)] = [e, 0, None]
    region_keys = sorted(regions, key=lambda k: (k[1], k[0]))
    region_starts = [k[1] for k in region_keys]
    busy = collections.defaultdict(lambda: [0.0] * len(runs))  # slot -> ms per run
    for e in events:
        kind, slot, fn, n, start, end = e
        if kind != "index" or run_of(start) is None:
            continue
        busy[slot][run_of(start)] += (end - start) / 1e6
        i = bisect.bisect_right(region_starts, start) - 1
        # The enclosing region: the latest region of this function started before the index.
        while i >= 0 and region_keys[i][0] != fn:
            i -= 1
        if i < 0:
            continue
        rec = regions[region_keys[i]]
        st = fn_stats[names.get(fn, fn)]
        st["all"] += 1
        if slot == 0:
            rec[1] = max(rec[1], end)
        else:
            st["worker"] += 1
            rec[2] = start if rec[2] is None else min(rec[2], start)
    wakes, tails, unjoined = [], [], 0
    for (ev, caller_end, first_worker) in regions.values():
        if first_worker is None:
            unjoined += 1
        else:
            wakes.append(first_worker - ev[4])
        if caller_end:
            tails.append(ev[5] - caller_end)
    n = len(runs)
    wall = [(r[5] - r[4]) / 1e6 for r in runs]
    reg = [p["regions"] for p in per_run]
    serial = [w - g for w, g in zip(wall, reg)]
    print(f"{args.trace}: {n} runs after {args.skip} warm-ups, {threads} thread(s)")
    print(f"  wall    median {median(wall):.3f} ms (min {min(wall):.3f})")
    print(f"  regions median {median(reg):.3f} ms; pool regions/run "
          f"{median([p['count_region'] for p in per_run]):.0f}, inline/run "
          f"{median([p['count_inline'] for p in per_run]):.0f}")
    print(f"  serial  median {median(serial):.3f} ms (outside any parallel_for)")
    if wakes or unjoined:
        wk = sorted(wakes)
        print(f"  wake    median {median(wk) / 1e3:.1f} us, p90 {wk[int(0.9 * (len(wk) - 1))] / 1e3 if wk else 0:.1f} us, "
              f"unjoined {unjoined} of {len(regions)} pool regions")
        tl = sorted(tails)
        if tl:
            print(f"  tail    median {median(tl) / 1e3:.1f} us, p90 {tl[int(0.9 * (len(tl) - 1))] / 1e3:.1f} us, "
                  f"sum/run {sum(tl) / n / 1e6:.3f} ms")
    if busy:
        print("  busy    median ms/run: " + ", ".join(
            f"{'caller' if s == 0 else f'worker {s - 1}'} {median(v):.3f}" for s, v in sorted(busy.items())))
    print(f"  {'function':28} {'kind':8} {'per run':>8} {'median us':>10} {'ms/run':>8} {'worker share':>12}")
    rows = sorted(fn_stats.items(), key=lambda kv: -sum(kv[1]["lengths"]))
    for name, st in rows:
        share = f"{st['worker'] / st['all']:.2f}" if st["all"] else "-"
        print(f"  {name:28} {'/'.join(sorted(st['kinds'])):8} {len(st['lengths']) / n:8.1f} "
              f"{median(st['lengths']) / 1e3:10.1f} {sum(st['lengths']) / n / 1e6:8.3f} {share:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
