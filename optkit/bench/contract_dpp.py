"""Timing of the `cvxpy` contract solver: DPP re-solve vs rebuilding per instance, and cold starts.

    python -m optkit.bench.contract_dpp --sizes 2-10 --instances 30

For each I, the same `default`-preset instances (n_types = I) are solved three ways:
  cached   the DPP problem compiled once per shape, parameters updated per instance (the first
           solve, which compiles, is not counted);
  rebuild  the same parameterised formulation module built and compiled afresh per instance;
  inline   a fresh problem with the data as constants per instance (what a model written inline
           gets; cheaper to compile than a parameterised one, so the stronger baseline).
Two tables. "Formulation step": what DPP changes, the formulation module's work per instance
(build and compile where the mode needs it, set the parameters, cvxpy + Clarabel solve). "End to
end": everything `optkit.solve` does on top (canonical LPs, dual-bound certificate, re-scoring),
the same in all three modes. Times are CPU seconds of this process (time.process_time), medians
per instance, so other jobs on the machine do not inflate them. Cold = first solve of a shape in
a fresh process (imports done beforehand, reported separately; wall time).
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


def time_step(instances, mode: str) -> list[float]:
    """CPU seconds per instance of the formulation step alone (see the module docstring)."""
    import cvxpy as cp

    from optkit.families.contract import exact_cvxpy as ec

    key = ec.ModelKey.of(instances[0])
    cached = ec.cached_model(key, ec.parameter_values(instances[0]))
    out = []
    for inst in instances:
        t = time.process_time()
        values = ec.parameter_values(inst)
        if mode == "cached":
            model = cached
            model.set(values)
        elif mode == "rebuild":
            model = ec._Model(key)
            model.set(values)
        else:
            model = ec._Model(key, values)
        model.problem.solve(solver=cp.CLARABEL)
        out.append(time.process_time() - t)
    return out


def time_solves(instances, mode: str) -> list[float]:
    out = []
    for inst in instances:
        t = time.process_time()
        res = optkit.solve(inst, params={"model": mode})
        out.append(time.process_time() - t)
        if res.status is not optkit.Status.OPTIMAL:
            print(f"  note: {inst.name} {res.status.value} {res.flags}", file=sys.stderr)
    return out


MODES = ("cached", "rebuild", "inline")


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
    lo, _, hi = args.sizes.partition("-")
    lo, hi = int(lo), int(hi or lo)
    rows = []
    for n in range(lo, hi + 1):
        insts = [
            optkit.generate("contract", "default", args.seed + k, n_types=n)
            for k in range(args.instances)
        ]
        optkit.solve(insts[0])  # compile this shape once; not counted
        step = {m: statistics.median(time_step(insts, m)) for m in MODES}
        full = {m: statistics.median(time_solves(insts, m)) for m in MODES}
        rows.append((n, step, full, cold(n, args.seed)))
    for title, idx in (("Formulation step", 1), ("End to end (optkit.solve)", 2)):
        print(f"\n{title}, CPU ms per instance\n")
        print("| I | cached DPP | rebuild module | speed-up | inline constants | speed-up |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            t = row[idx]
            print(
                f"| {row[0]} | {1e3 * t['cached']:.2f} | {1e3 * t['rebuild']:.2f} "
                f"| {t['rebuild'] / t['cached']:.1f}x | {1e3 * t['inline']:.2f} "
                f"| {t['inline'] / t['cached']:.1f}x |"
            )
    print("\nCold start (fresh process, wall)\n")
    print("| I | first solve s | import s | status |")
    print("|---|---|---|---|")
    for n, _, _, (imp, first, status) in rows:
        print(f"| {n} | {first:.3f} | {imp:.2f} | {status} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
