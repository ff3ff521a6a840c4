"""Timing of the `cvxpy` contract solver: DPP re-solve vs rebuilding per instance, and cold starts.

    python -m optkit.bench.contract_dpp --sizes 2-10 --instances 30

For each I, the same `default`-preset instances (n_types = I) are solved three ways:
  cached   the DPP problem compiled once per shape, parameters updated per instance (the first
           solve, which compiles, is not counted);
  rebuild  the same parameterised formulation module built and compiled afresh per instance;
  inline   a fresh problem with the data as constants per instance (what a model written inline
           gets; cheaper to compile than a parameterised one, so the stronger baseline).
All three include everything `optkit.solve` does (canonical LP, dual-bound certificate,
re-scoring). Cold = first solve of a shape in a fresh process (imports
done beforehand, reported separately).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import optkit

COLD_SNIPPET = """
import time
t0 = time.perf_counter()
import optkit, optkit.families.contract.exact_cvxpy
t1 = time.perf_counter()
inst = optkit.generate("contract", "default", seed={seed}, n_types={n})
t2 = time.perf_counter()
res = optkit.solve(inst)
t3 = time.perf_counter()
print(t1 - t0, t3 - t2, res.status.value)
"""


def time_solves(instances, mode: str) -> list[float]:
    out = []
    for inst in instances:
        t = time.perf_counter()
        res = optkit.solve(inst, params={"model": mode})
        out.append(time.perf_counter() - t)
        if res.status is not optkit.Status.OPTIMAL:
            print(f"  note: {inst.name} {res.status.value} {res.flags}", file=sys.stderr)
    return out


def cold(n: int, seed: int = 0) -> tuple[float, float, str]:
    line = subprocess.run(
        [sys.executable, "-c", COLD_SNIPPET.format(n=n, seed=seed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(line[0]), float(line[1]), line[2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="2-10", help="range of I, e.g. 2-10")
    ap.add_argument("--instances", type=int, default=30, help="instances per size (medians)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    lo, hi = (int(x) for x in args.sizes.split("-"))
    print(
        "| I | cached DPP ms | rebuild module ms | speed-up | inline constants ms | speed-up "
        "| cold first solve s | import s | cold status |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in range(lo, hi + 1):
        insts = [
            optkit.generate("contract", "default", args.seed + k, n_types=n)
            for k in range(args.instances)
        ]
        optkit.solve(insts[0])  # compile this shape once; not counted
        dpp = statistics.median(time_solves(insts, "cached"))
        reb = statistics.median(time_solves(insts, "rebuild"))
        inl = statistics.median(time_solves(insts, "inline"))
        imp, first, status = cold(n, args.seed)
        print(
            f"| {n} | {1e3 * dpp:.2f} | {1e3 * reb:.2f} | {reb / dpp:.1f}x | {1e3 * inl:.2f} "
            f"| {inl / dpp:.1f}x | {first:.3f} | {imp:.2f} | {status} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
