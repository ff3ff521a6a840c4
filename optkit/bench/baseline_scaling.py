"""Scaling of `optkit baseline` on the local backend: the same run with 1, 2, ... workers.

    python -m optkit.bench.baseline_scaling --n 2000 --gen-option n_types=8 --workers 1 2

Each worker count solves the same generator spec into a fresh data set (a temporary folder,
removed afterwards). Wall time is the whole `run_baseline` call: worker start-up (spawned
interpreters importing optkit and the solver), solving, Parquet writes. CPU seconds of the
workers and of the parent (the harness itself: dispatch, rows, Parquet) are reported beside it;
on a shared machine they show where the time went when the wall time cannot.

The acceptance target is a speed-up of at least 1.7 with 2 workers on a run where one worker
takes at least 30 s; the default spec (contract `default` preset with I = 8, 2000 instances,
cvxpy; about 17 ms each on an idle core) is sized for that, and the script says when the
one-worker run was shorter. The load average before each run is printed: the machine must be
idle for the speed-up to mean anything (two workers cannot get two cores others are using).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from optkit.bench.baseline import BaselineConfig, parse_assignments, run_baseline

MIN_ONE_WORKER_S = 30.0
"""The acceptance measurement needs a run where one worker takes at least this long."""


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(config: BaselineConfig, workers: int, scratch: Path) -> dict:
    out = scratch / f"w{workers}"
    load = os.getloadavg()[0]
    self0, children0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    summary = run_baseline(config, out, backend="local", workers=workers)
    wall = time.perf_counter() - t0
    # The workers have been joined (reaped) when run_baseline returns, so their CPU time is in
    # RUSAGE_CHILDREN; the parent's own CPU time is the harness overhead.
    parent_cpu = _cpu(resource.RUSAGE_SELF) - self0
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - children0
    table = pq.read_table(out, columns=["status", "wall_s"])
    solve_sum = sum(table.column("wall_s").to_pylist())
    shutil.rmtree(out)
    return {
        "workers": workers,
        "n": summary.solved,
        "wall": wall,
        "solve_sum": solve_sum,
        "load": load,
        "parent_cpu": parent_cpu,
        "workers_cpu": workers_cpu,
        "statuses": Counter(table.column("status").to_pylist()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="contract")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gen-option", action="append", default=None, help="KEY=VALUE")
    ap.add_argument("--solver", default="cvxpy")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    options = (
        parse_assignments(args.gen_option, "--gen-option")
        if args.gen_option is not None
        else ({"n_types": 8} if args.family == "contract" else {})
    )
    config = BaselineConfig(
        solver=args.solver,
        family=args.family,
        preset=args.preset,
        n=args.n,
        seed=args.seed,
        options=options,
    )
    spec = ", ".join(f"{k}={v}" for k, v in options.items())
    print(
        f"optkit baseline scaling: {args.family}/{args.preset} ({spec or 'preset sizes'}), "
        f"n={args.n}, solver {args.solver}, backend local, {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="optkit-baseline-scaling-") as scratch:
        for w in args.workers:
            results.append(measure(config, w, Path(scratch)))
            print(f"  {w} worker(s): {results[-1]['wall']:.1f} s", file=sys.stderr)
    base = results[0]["wall"]
    print(
        "| workers | instances | wall s | instances/s | speed-up | sum of solve s "
        "| workers CPU s | parent CPU s | load avg before | statuses |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(r["statuses"].items()))
        print(
            f"| {r['workers']} | {r['n']} | {r['wall']:.1f} | {r['n'] / r['wall']:.2f} "
            f"| {base / r['wall']:.2f} | {r['solve_sum']:.1f} | {r['workers_cpu']:.1f} "
            f"| {r['parent_cpu']:.1f} | {r['load']:.1f} | {statuses} |"
        )
    if results[0]["workers"] == 1 and base < MIN_ONE_WORKER_S:
        print(
            f"\nnote: the one-worker run took {base:.1f} s < {MIN_ONE_WORKER_S:.0f} s; "
            "raise --n for the acceptance measurement"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
