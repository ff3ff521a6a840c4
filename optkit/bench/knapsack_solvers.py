"""Exact knapsack solvers: time to proved optimality on `large`, timing vs size, agreement.

    python -m optkit.bench.knapsack_solvers --seeds 20 --threads 2 --size-seeds 3

Prints three markdown tables:
  1. `large` (n = 2,000, S = 24): per solver, wall seconds to OPTIMAL over the seeds (max,
     median), how many proved optimal within --time-limit, largest |cpsat - highs|.
  2. timing vs n (the `large` preset's parameters at other n, --size-seeds seeds each), n = 5,000
     included.
  3. agreement on every preset (weighted and all_skills): highs, cpsat, pyomo objectives, the
     largest difference and cpsat's recorded scaling bound.
Wall time is optkit.solve's, model building included (the time limit counts set-up).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import optkit
from optkit.core.status import Status

SOLVERS = ("cpsat", "highs")


def timed(inst, solver: str, threads: int, limit: float):
    """(result, wall s, CPU s). CPU seconds are summed over threads: a load-free reference on
    a shared machine (wall ≈ CPU / threads on an idle one)."""
    cpu0 = time.process_time()
    res = optkit.solve(inst, solver, threads=threads, time_limit_s=limit)
    return res, res.timing.wall_s, time.process_time() - cpu0


def large_table(seeds: int, threads: int, limit: float) -> None:
    rows = {s: [] for s in SOLVERS}
    cpu = {s: [] for s in SOLVERS}
    proved = {s: 0 for s in SOLVERS}
    worst_diff = 0.0
    for seed in range(seeds):
        inst = optkit.generate("knapsack", "large", seed=seed)
        objs = {}
        for s in SOLVERS:
            res, wall, cpu_s = timed(inst, s, threads, limit)
            rows[s].append(wall)
            cpu[s].append(cpu_s)
            proved[s] += res.status is Status.OPTIMAL
            objs[s] = res.objective
            print(
                f"  large seed {seed} {s}: {res.status.value} {wall:.2f} s wall, {cpu_s:.2f} s CPU",
                flush=True,
            )
        if None not in objs.values():
            worst_diff = max(worst_diff, abs(objs["cpsat"] - objs["highs"]))
    print(f"\n### `large` (n = 2,000, S = 24), {seeds} seeds, {threads} threads\n")
    print("| solver | proved optimal | max wall s | median wall s | max CPU s | median CPU s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for s in SOLVERS:
        wall, used = rows[s], cpu[s]
        print(
            f"| {s} | {proved[s]}/{seeds} | {max(wall):.2f} | {statistics.median(wall):.2f} "
            f"| {max(used):.2f} | {statistics.median(used):.2f} |"
        )
    print(f"\nlargest |cpsat - highs| objective difference: {worst_diff:.2e}")


def size_table(sizes: list[int], seeds: int, threads: int, limit: float) -> None:
    print(f"\n### timing vs n (`large` parameters), {seeds} seeds per n, {threads} threads\n")
    print("| n | conflicts (mean) | " + " | ".join(f"{s} max / median s" for s in SOLVERS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in SOLVERS) + " |")
    for n in sizes:
        walls = {s: [] for s in SOLVERS}
        status = {s: 0 for s in SOLVERS}
        m = []
        for seed in range(seeds):
            inst = optkit.generate("knapsack", "large", seed=seed, n=n)
            m.append(len(inst.conflicts))
            for s in SOLVERS:
                res, wall, _ = timed(inst, s, threads, limit)
                walls[s].append(wall)
                status[s] += res.status is Status.OPTIMAL
                print(f"  n {n} seed {seed} {s}: {res.status.value} {wall:.2f} s", flush=True)
        cells = [
            f"{max(walls[s]):.2f} / {statistics.median(walls[s]):.2f} ({status[s]}/{seeds} opt)"
            for s in SOLVERS
        ]
        print(f"| {n} | {statistics.mean(m):.0f} | " + " | ".join(cells) + " |")


def agreement_table(seeds: int, threads: int) -> None:
    print(f"\n### agreement on every preset ({seeds} seeds each)\n")
    print(
        "| preset | objective | max abs diff cpsat-highs | max cpsat scaling bound "
        "| max abs diff pyomo-highs |"
    )
    print("| --- | --- | --- | --- | --- |")
    for preset in ("single_agent", "multi_agent", "large"):
        for objective in ("weighted", "all_skills"):
            d_c, bound, d_p = 0.0, 0.0, 0.0
            for seed in range(seeds):
                inst = optkit.generate("knapsack", preset, seed=seed, objective=objective)
                h = optkit.solve(inst, "highs", threads=threads)
                c = optkit.solve(inst, "cpsat", threads=threads)
                assert h.status is c.status is Status.OPTIMAL, (preset, seed)
                d_c = max(d_c, abs(c.objective - h.objective))
                bound = max(bound, c.certificate["scaling_bound"])
                if preset != "large":  # Pyomo's model build dominates at n = 2,000
                    p = optkit.solve(inst, "pyomo", threads=threads)
                    d_p = max(d_p, abs(p.objective - h.objective))
            pyomo = f"{d_p:.1e}" if preset != "large" else "(not run)"
            print(f"| {preset} | {objective} | {d_c:.1e} | {bound:.1e} | {pyomo} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds of `large`")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=60.0, help="per solve, seconds")
    ap.add_argument("--sizes", default="500,1000,2000,5000", help="n values of the size table")
    ap.add_argument("--size-seeds", type=int, default=3)
    ap.add_argument("--agree-seeds", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma list of tables to skip: large,size,agree")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    print(f"knapsack solver benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if "large" not in skip:
        large_table(args.seeds, args.threads, args.time_limit)
    if "size" not in skip:
        sizes = [int(x) for x in args.sizes.split(",")]
        size_table(sizes, args.size_seeds, args.threads, args.time_limit)
    if "agree" not in skip:
        agreement_table(args.agree_seeds, args.threads)


if __name__ == "__main__":
    main()
