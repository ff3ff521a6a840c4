"""DMD regret vs T on log-log axes, with the fitted slope and its 95% bootstrap interval.

    python -m optkit.bench.online_alloc_regret [--T 1000,3000,10000,30000,100000]
        [--seeds 0-9] [--reference entropy] [--model iid] [--plot docs/img/online_alloc-regret.png]

For each seed the model (p, θ, ρ) is fixed and streams of every length T are drawn from it;
regret = hindsight LP (dual_bound, certified) - DMD reward (step η = c/√T, c the tuned default).
The slope is the least-squares fit of log regret on log T over all (seed, T) pairs; its 95%
interval resamples seeds (2000 bootstrap draws). Theory (Balseiro, Lu, Mirrokni, Thm. 1):
O(√T) regret for i.i.d. input, slope 1/2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from optkit.families.online_alloc.dmd import DMDParams
from optkit.families.online_alloc.dual_bound import solve_dual_bound
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.simulate import simulate


def seed_range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def slope(logT: np.ndarray, logR: np.ndarray) -> float:
    return float(np.polyfit(logT.ravel(), logR.ravel(), 1)[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", default="1000,3000,10000,30000,100000")
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--m", type=int, default=100)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--reference", default="entropy")
    ap.add_argument("--model", default="iid")
    ap.add_argument("--plot", default="docs/img/online_alloc-regret.png")
    args = ap.parse_args(argv)
    Ts = [int(float(x)) for x in args.T.split(",")]
    seeds = seed_range(args.seeds)
    params = DMDParams(reference=args.reference)
    regret = np.zeros((len(seeds), len(Ts)))
    ratio = np.zeros_like(regret)
    for j, T in enumerate(Ts):
        streams = [
            generate("nrm", s, T=T, m=args.m, d=args.d, input_model=args.model) for s in seeds
        ]
        opt = np.array([solve_dual_bound(inst).dual for inst in streams])
        got = simulate(streams, "dmd", params).rewards
        regret[:, j] = opt - got
        ratio[:, j] = got / opt
        del streams
    logT = np.log(np.broadcast_to(np.array(Ts, float), regret.shape))
    logR = np.log(np.maximum(regret, 1e-9))
    fit = slope(logT, logR)
    rng = np.random.default_rng(0)
    boot = [
        slope(logT[idx], logR[idx])
        for idx in (rng.integers(0, len(seeds), len(seeds)) for _ in range(2000))
    ]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(
        f"nrm {args.model}, m = {args.m}, d = {args.d}, dmd {args.reference} (c default), "
        f"seeds {args.seeds}\n"
    )
    print("| T | mean regret | regret / √T | mean ratio |")
    print("| --- | --- | --- | --- |")
    for j, T in enumerate(Ts):
        r = regret[:, j].mean()
        print(f"| {T:,} | {r:.1f} | {r / np.sqrt(T):.3f} | {ratio[:, j].mean():.4f} |")
    print(f"\nfitted slope {fit:.3f}, 95% bootstrap interval [{lo:.3f}, {hi:.3f}]")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for i in range(len(seeds)):
            ax.plot(Ts, regret[i], "o", color="0.7", ms=3)
        ax.plot(Ts, regret.mean(axis=0), "o-", color="C0", label="mean regret (DMD)")
        a = np.exp(np.mean(logR - fit * logT))
        ax.plot(
            Ts,
            a * np.array(Ts, float) ** fit,
            "--",
            color="C1",
            label=f"fit: slope {fit:.2f} [{lo:.2f}, {hi:.2f}]",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("T (requests)")
        ax.set_ylabel("hindsight LP - reward")
        ax.set_title(f"online_alloc nrm {args.model}: DMD {args.reference} regret")
        ax.legend()
        fig.tight_layout()
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
