"""The `fast` contract solver against the DPP `cvxpy` re-solve: agreement, throughput, fallbacks.

    python -m optkit.bench.contract_fast [--n 10000] [--dpp-sample 500] [--seed 0]

One run, side by side (spec/contract.md targets): `fast` on the shipped suite and on n `default`
instances (I = 3) in one batch, fallbacks included; cvxpy re-solves every one of them for the
agreement check, and a sample of them for the DPP time per instance. Throughput is reported per
CPU second of this process (time.process_time), which is what "per core" means on a shared
machine, and per wall second. Generation is excluded from every timing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import optkit
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.contract import exact_cvxpy, fast

SUITE = Path(__file__).resolve().parents[2] / "instances" / "contract" / "suite-v1"


def _agreement(insts, outs) -> tuple[float, int, float]:
    """Largest relative difference to cvxpy where cvxpy is certified OPTIMAL; how many instances
    cvxpy left uncertified (FEASIBLE, gap above 1e-6), and the largest difference there."""
    worst, uncertified, worst_uncertified = 0.0, 0, 0.0
    for inst, out in zip(insts, outs, strict=True):
        ref = exact_cvxpy.solve(inst, deadline=Deadline(None))
        if out.objective is None or ref.objective is None:
            uncertified += 1
            continue
        diff = abs(out.objective - ref.objective) / max(1.0, abs(ref.objective))
        if ref.status is Status.OPTIMAL:
            worst = max(worst, diff)
        else:
            uncertified += 1
            worst_uncertified = max(worst_uncertified, diff)
    return worst, uncertified, worst_uncertified


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--dpp-sample", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-agreement", action="store_true", help="timings only")
    args = ap.parse_args(argv)

    suite = [
        optkit.load(p)
        for p in sorted(SUITE.glob("*.json"))
        if not p.name.endswith(".solution.json")
    ]
    insts = [optkit.generate("contract", "default", args.seed + k) for k in range(args.n)]
    fast.solve_batch(insts[:20])  # imports and caches, as in any long-running process
    exact_cvxpy.solve(insts[0], deadline=Deadline(None))

    t0, c0 = time.perf_counter(), time.process_time()
    outs, stats = fast.solve_batch(insts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    suite_outs, suite_stats = fast.solve_batch(suite)

    sample = insts[: args.dpp_sample]
    c0 = time.process_time()
    t0 = time.perf_counter()
    for inst in sample:
        exact_cvxpy.solve(inst, deadline=Deadline(None))
    dpp_wall = (time.perf_counter() - t0) / len(sample)
    dpp_cpu = (time.process_time() - c0) / len(sample)

    print(f"`fast` vs DPP `cvxpy`, {args.n} `default` instances (I = 3), one batch\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| fast, instances per CPU second (fallbacks included) | {args.n / cpu:,.0f} |")
    print(f"| fast, instances per wall second | {args.n / wall:,.0f} |")
    print(f"| fast, CPU ms per instance | {1e3 * cpu / args.n:.3f} |")
    print(f"| DPP re-solve (cvxpy cached), CPU ms per instance | {1e3 * dpp_cpu:.2f} |")
    print(f"| DPP re-solve, wall ms per instance | {1e3 * dpp_wall:.2f} |")
    print(f"| speed-up over DPP (CPU) | {dpp_cpu / (cpu / args.n):.1f}x |")
    print(f"| fallbacks to cvxpy | {stats.fallbacks} of {args.n} "
          f"({100 * stats.fallbacks / args.n:.2f}%) |")  # fmt: skip
    print(f"| suite: fallbacks | {suite_stats.fallbacks} of {len(suite)} |")
    if not args.skip_agreement:
        for label, group, group_outs in (
            (f"{args.n} instances", insts, outs),
            ("suite", suite, suite_outs),
        ):
            worst, unc, worst_unc = _agreement(group, group_outs)
            print(f"| agreement with certified cvxpy, {label}: max relative difference "
                  f"| {worst:.1e} |")  # fmt: skip
            print(f"| {label}: cvxpy not certified (feasible) / largest difference there "
                  f"| {unc} / {worst_unc:.1e} |")  # fmt: skip
    statuses = {o.status.value for o in outs + suite_outs}
    print(f"| statuses | {', '.join(sorted(statuses))} |")
    gaps = np.array([o.bound - o.objective for o in outs]) / np.maximum(
        1.0, np.abs([o.objective for o in outs])
    )
    print(f"| certified gap median / max | {np.median(gaps):.1e} / {gaps.max():.1e} |")


if __name__ == "__main__":
    main()
