"""kube-scheduler replays on the paper's grid: how often the default leaves pods pending, how
many pods each baseline places, and how long a replay takes.

    python -m optkit.bench.podpack_kube --seeds 20 [--cells 'n32-*'] [--scan 500]

For every cell (preset) and seeds 0..S-1: `kube_default`, `kube_default` with preemption and
`kube_mostallocated`, each through optkit.solve (re-scored by evaluate()). Columns: the share
of seeds where kube_default leaves a pod pending (the paper's `failing` scenarios), the mean
share of pods placed by each baseline, and the median wall time per replay. With --scan N the
`failing` filter is also run (first 20 failing seeds among 0..N-1) and its time reported.
"""

from __future__ import annotations

import argparse
import fnmatch
import statistics
import time

import optkit
from optkit.families.podpack.generate import PRESET_NAMES, failing

VARIANTS = (
    ("kube_default", {}),
    ("kube_default", {"preemption": True}),
    ("kube_mostallocated", {}),
)


def run_cell(preset: str, seeds: int) -> dict:
    placed = {k: [] for k in range(len(VARIANTS))}
    times = {k: [] for k in range(len(VARIANTS))}
    failing_count = 0
    for seed in range(seeds):
        inst = optkit.generate("podpack", preset, seed=seed)
        for k, (solver, params) in enumerate(VARIANTS):
            t = time.perf_counter()
            res = optkit.solve(inst, solver, params=params)
            times[k].append(time.perf_counter() - t)
            if not res.evaluation.feasible:
                raise AssertionError(f"{preset} s{seed} {solver}: infeasible plan")
            n_placed = inst.n_pods - len(optkit.evaluate(inst, res.decision).pending)
            placed[k].append(n_placed / inst.n_pods)
            if k == 0 and n_placed < inst.n_pods:
                failing_count += 1
    return {
        "failing": failing_count / seeds,
        "placed": [statistics.mean(placed[k]) for k in placed],
        "ms": [1e3 * statistics.median(times[k]) for k in times],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds 0..S-1 per cell")
    ap.add_argument("--cells", default="*", help="glob over preset names, e.g. 'n32-*'")
    ap.add_argument("--scan", type=int, default=0, help="also time the failing filter (0: off)")
    args = ap.parse_args(argv)
    cells = [c for c in PRESET_NAMES if fnmatch.fnmatch(c, args.cells)]
    print(
        f"kube-scheduler replays, seeds 0..{args.seeds - 1} per cell; placed = mean share of "
        "pods with a node; ms = median wall time of optkit.solve"
    )
    print()
    header = (
        "| cell | failing % | placed % default | placed % +preemption | placed % mostallocated "
        "| ms default | ms +preemption | ms mostallocated |"
    )
    if args.scan:
        header += " failing seeds found | filter s |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    totals = []
    t_all = time.perf_counter()
    for cell in cells:
        row = run_cell(cell, args.seeds)
        totals.append(row)
        line = (
            f"| {cell} | {100 * row['failing']:.0f} | "
            + " | ".join(f"{100 * p:.1f}" for p in row["placed"])
            + " | "
            + " | ".join(f"{ms:.1f}" for ms in row["ms"])
            + " |"
        )
        if args.scan:
            t = time.perf_counter()
            found = failing(cell, 20, scan=args.scan)
            line += f" {len(found.seeds)}/20 in {found.scanned} | {time.perf_counter() - t:.2f} |"
        print(line, flush=True)
    if totals:
        mean = lambda xs: statistics.mean(xs)  # noqa: E731
        print(
            f"| **all {len(totals)} cells** | {100 * mean([r['failing'] for r in totals]):.0f} | "
            + " | ".join(f"{100 * mean([r['placed'][k] for r in totals]):.1f}" for k in range(3))
            + " | "
            + " | ".join(f"{mean([r['ms'][k] for r in totals]):.1f}" for k in range(3))
            + " |"
            + (" | |" if args.scan else "")
        )
    print(f"\ntotal {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
