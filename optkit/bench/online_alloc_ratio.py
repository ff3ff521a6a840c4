"""Reward / hindsight LP per input model and policy, side by side in one run (acceptance).

    python -m optkit.bench.online_alloc_ratio [--seeds 0-9] [--T 10000] [--m 100] [--d 10]
                                             [--policies dmd-entropy,...] [--no-resolve]

For each input model (iid, markov, periodic, adversarial) the same evaluation seeds (default
0-9; DMD's c was tuned on 1000-1009 by online_alloc_tune) are generated first (generation
excluded from timings), their hindsight LP value computed by `dual_bound` (certified, gap
<= 1e-6), then every policy is run: DMD with each reference function (batched simulator),
greedy (batched), fixed_dual (μ* of an independent training stream of the same law, batched
with per-stream prices) and resolve (single stream, HiGHS re-solves). Ratio = reward / LP,
mean and 95% t-interval over seeds. Adversarial rows also show the DMD guarantee of Balseiro,
Lu & Mirrokni (Thm. 2): reward >= OPT / α - O(√T) with α = max_j max_t,i C_t[j, i] / ρ_j, i.e.
the ratio bound 1/α (here min_j ρ_j, as Bernoulli uses are at most 1).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optkit.core.timing import Deadline
from optkit.families.online_alloc.dmd import REFERENCES, DMDParams
from optkit.families.online_alloc.dual_bound import solve_dual_bound
from optkit.families.online_alloc.exact_cvxpy import entropic_value, hindsight_cvxpy
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.policies import (
    DMD,
    Greedy,
    Resolve,
    fit_fixed_dual,
    run_stream,
)
from optkit.families.online_alloc.simulate import simulate

MODELS = ("iid", "markov", "periodic", "adversarial")
T95 = {
    2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26,
    11: 2.23, 12: 2.20, 13: 2.18, 14: 2.16, 15: 2.14, 16: 2.13, 20: 2.09, 30: 2.05,
}  # fmt: skip


def t95(n: int) -> float:
    """Two-sided 95% Student t quantile for n samples (n - 1 degrees of freedom)."""
    return T95.get(n, T95[max(k for k in T95 if k <= n)] if n > 2 else 12.71)


def mean_ci(x: np.ndarray) -> str:
    if x.size < 2:
        return f"{x.mean():.4f}"
    half = t95(x.size) * x.std(ddof=1) / np.sqrt(x.size)
    return f"{x.mean():.4f} ± {half:.4f}"


def matching_rows(model: str, streams: list) -> None:
    """matching: the entropic hindsight optimum (hindsight_cvxpy) is the reference, and the
    single-stream policies run (the LP-priced ones do not apply)."""
    opt = np.array([hindsight_cvxpy(inst, Deadline(None), 0, 1, {}).objective for inst in streams])
    policies = [(f"dmd {ref}", lambda ref=ref: DMD(DMDParams(reference=ref))) for ref in REFERENCES]
    for name, make in [*policies, ("greedy", Greedy)]:
        t0 = time.perf_counter()
        got = []
        for inst in streams:
            actions, X = run_stream(make(), inst)
            got.append(entropic_value(inst, X))
        ratio = np.array(got) / opt
        secs = time.perf_counter() - t0
        print(f"| {model} | {name} | {mean_ci(ratio)} | {ratio.min():.4f} | {secs:.1f} |")


def seed_range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--T", type=int, default=10_000)
    ap.add_argument("--m", type=int, default=None, help="default: the preset's (nrm: 100)")
    ap.add_argument("--d", type=int, default=None, help="default: the preset's (nrm: 10)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument(
        "--preset", default="nrm", help="nrm, or bidding (use --models iid,adversarial)"
    )
    ap.add_argument("--no-resolve", dest="resolve", action="store_false", default=True)
    args = ap.parse_args(argv)
    seeds = seed_range(args.seeds)
    size = {k: v for k, v in (("T", args.T), ("m", args.m), ("d", args.d)) if v is not None}
    probe = generate(args.preset, 0, **{**size, "T": 1})
    print(f"{args.preset}, T = {args.T}, m = {probe.m}, d = {probe.d}, seeds {args.seeds}")
    ref = "hindsight_cvxpy" if probe.variant == "matching" else "hindsight LP (dual_bound)"
    print(f"ratio = reward / {ref}, mean ± 95% t-interval over seeds\n")
    print("| input model | policy | ratio | min | policy s (all seeds) |")
    print("| --- | --- | --- | --- | --- |")
    summary = {}
    for model in args.models.split(","):
        streams = [generate(args.preset, s, input_model=model, **size) for s in seeds]
        if streams[0].variant == "matching":
            matching_rows(model, streams)
            continue
        opt = np.array([solve_dual_bound(inst, seed=0).dual for inst in streams])
        rows: list[tuple[str, np.ndarray, float]] = []
        for ref in REFERENCES:
            t0 = time.perf_counter()
            res = simulate(streams, "dmd", DMDParams(reference=ref))
            rows.append((f"dmd {ref}", res.rewards / opt, time.perf_counter() - t0))
        t0 = time.perf_counter()
        rows.append(("greedy", simulate(streams, "greedy").rewards / opt, 0.0))
        rows[-1] = (rows[-1][0], rows[-1][1], time.perf_counter() - t0)
        t0 = time.perf_counter()
        mu = np.stack([fit_fixed_dual(inst, args.T, 0)[0] for inst in streams])
        rows.append(("fixed_dual", simulate(streams, "fixed_dual", mu=mu).rewards / opt, 0.0))
        rows[-1] = (rows[-1][0], rows[-1][1], time.perf_counter() - t0)
        if args.resolve:
            t0 = time.perf_counter()
            got = []
            for inst in streams:
                actions, _ = run_stream(Resolve(), inst)
                on = np.flatnonzero(actions >= 0)
                got.append(inst.rewards[on, actions[on]].sum())
            rows.append(("resolve", np.array(got) / opt, time.perf_counter() - t0))
        for name, ratio, secs in rows:
            print(f"| {model} | {name} | {mean_ci(ratio)} | {ratio.min():.4f} | {secs:.1f} |")
            summary[(model, name)] = ratio.mean()
        if model == "adversarial":
            bound = np.mean([inst.rho.min() / inst.consumption.max() for inst in streams])
            print(f"| {model} | DMD bound 1/α (mean over seeds) | {bound:.4f} | | |")
    if ("iid", "dmd entropy") in summary:
        print()
        for model in ("markov", "periodic"):
            if (model, "dmd entropy") in summary:
                diff = 100 * (summary[("iid", "dmd entropy")] - summary[(model, "dmd entropy")])
                print(f"dmd entropy: iid - {model} = {diff:.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
