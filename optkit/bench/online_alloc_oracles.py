"""Hindsight oracle timing: HiGHS LP vs dual_bound (and the certified gap at large T).

    python -m optkit.bench.online_alloc_oracles [--lp-T 1000,10000] [--db-T 100000,1000000]
                                                [--seeds 0] [--threads 1]

nrm streams, m = 100, d = 10 (generation excluded). For each T in --lp-T: HiGHS dual simplex on
the full hindsight LP (`hindsight_lp`, one thread) and `dual_bound`, their relative agreement
and the speed-up. For each T in --db-T: `dual_bound` alone (the LP is too large to build), with
its certificate: D(μ̂) (upper bound), the recovered primal P (lower bound), the relative gap,
passes over the data, and free requests of the last restricted LP. Wall seconds include model
building; the machine may be shared (state it next to the figures).
"""

from __future__ import annotations

import argparse
import time

from optkit.core.timing import Deadline
from optkit.families.online_alloc import dual_bound, exact_highs
from optkit.families.online_alloc.generate import generate


def ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lp-T", default="1000,10000")
    ap.add_argument("--db-T", default="100000,1000000")
    ap.add_argument("--mip-T", default="200,1000", help="T values for hindsight_mip vs LP")
    ap.add_argument("--mip-time-limit", type=float, default=300.0)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--m", type=int, default=100)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    seeds = ints(args.seeds)
    print(f"nrm iid, m = {args.m}, d = {args.d}, threads = {args.threads}, seeds {seeds}\n")
    print(
        "| T | seed | HiGHS LP s | dual_bound s | speed-up | LP value | dual_bound P | "
        "D(μ̂) | rel. gap | abs(P - LP) / LP | passes | free |"
    )
    print("| --- " * 12 + "|")
    for T in ints(args.lp_T) + ints(args.db_T):
        for seed in seeds:
            inst = generate("nrm", seed, T=T, m=args.m, d=args.d)
            lp_s = lp_val = None
            if T in ints(args.lp_T):
                t0 = time.perf_counter()
                out = exact_highs.hindsight_lp(inst, Deadline(None), seed, args.threads, {})
                lp_s, lp_val = time.perf_counter() - t0, out.objective
            t0 = time.perf_counter()
            res = dual_bound.solve_dual_bound(inst, seed=seed, threads=args.threads)
            db_s = time.perf_counter() - t0
            agree = "-" if lp_val is None else f"{abs(res.primal - lp_val) / abs(lp_val):.1e}"
            print(
                f"| {T:,} | {seed} | {'-' if lp_s is None else f'{lp_s:.2f}'} | {db_s:.2f} | "
                f"{'-' if lp_s is None else f'{lp_s / db_s:.1f}x'} | "
                f"{'-' if lp_val is None else f'{lp_val:.6f}'} | {res.primal:.6f} | "
                f"{res.dual:.6f} | {res.gap:.1e} | {agree} | {res.passes} | {res.free} |",
                flush=True,
            )
            del inst
    if args.mip_T:
        print("\n| T | seed | hindsight_mip s | status | MIP value | LP value | (LP - MIP) / LP |")
        print("| --- " * 7 + "|")
    for T in ints(args.mip_T):
        for seed in seeds:
            inst = generate("nrm", seed, T=T, m=args.m, d=args.d)
            lp = exact_highs.hindsight_lp(inst, Deadline(None), seed, args.threads, {})
            t0 = time.perf_counter()
            mip = exact_highs.hindsight_mip(
                inst, Deadline(args.mip_time_limit), seed, args.threads, {}
            )
            mip_s = time.perf_counter() - t0
            val = "-" if mip.objective is None else f"{mip.objective:.6f}"
            rel = (
                "-"
                if mip.objective is None
                else f"{(lp.objective - mip.objective) / lp.objective:.1e}"
            )
            print(
                f"| {T:,} | {seed} | {mip_s:.2f} | {mip.status.value} | {val} | "
                f"{lp.objective:.6f} | {rel} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
