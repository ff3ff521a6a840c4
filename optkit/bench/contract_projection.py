"""Time the contract env's `projected` action map: build once per instance, then per call.

    python -m optkit.bench.contract_projection [--sizes 1 2 3 4 5] [--instances 20] [--calls 200]

For each I (two periods, preset `default` with n_types = I) it builds the HiGHS LP of
projection.py for several instances, projects uniformly random actions (and box corners), and
prints a markdown table: build ms, median and 99th-percentile ms per call, and the largest
evaluate() max violation seen (the spec's acceptance: <= 1e-7 always, <= 0.5 ms per call at I = 3).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optkit.core.seeding import make_rng
from optkit.families.contract.env import target_efforts
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.generate import generate
from optkit.families.contract.projection import ProjectedMap


def measure(n_types: int, n_instances: int, calls: int, seed: int = 0) -> dict[str, float]:
    rng = make_rng(seed)
    build, per_call, worst = [], [], 0.0
    for k in range(n_instances):
        inst = generate("default", seed + k, n_types=n_types)
        t0 = time.perf_counter()
        pm = ProjectedMap(inst)
        build.append(time.perf_counter() - t0)
        d = n_types + n_types * n_types
        for c in range(calls):
            action = rng.uniform(-1, 1, d) if c % 4 else rng.choice([-1.0, 1.0], d)
            target = target_efforts(inst, action)
            t0 = time.perf_counter()
            menu = pm(target).decision
            per_call.append(time.perf_counter() - t0)
            worst = max(worst, evaluate(inst, menu).max_violation)
    return {
        "build_ms": 1e3 * float(np.median(build)),
        "median_ms": 1e3 * float(np.median(per_call)),
        "p99_ms": 1e3 * float(np.quantile(per_call, 0.99)),
        "worst_violation": worst,
        "calls": len(per_call),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--instances", type=int, default=20)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args(argv)
    print("| I | LP build ms (median) | ms per call (median) | p99 ms | calls | max violation |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in args.sizes:
        m = measure(n, args.instances, args.calls)
        print(
            f"| {n} | {m['build_ms']:.2f} | {m['median_ms']:.3f} | {m['p99_ms']:.3f} | "
            f"{m['calls']} | {m['worst_violation']:.1e} |"
        )


if __name__ == "__main__":
    main()
