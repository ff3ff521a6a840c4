"""Tune DMD's step constant c (η = c/√T) per reference function on training seeds.

    python -m optkit.bench.online_alloc_tune [--seeds 1000-1009] [--T 10000]

The training seeds (default 1000-1009) are disjoint from the evaluation seeds (0-9) of
online_alloc_ratio, so the tuned c never sees an evaluation stream. Prints, for each reference
function and c, the mean reward / hindsight LP (dual_bound) over the seeds, and the best c.
Those best values are dmd.DEFAULT_C.
"""

from __future__ import annotations

import argparse

import numpy as np

from optkit.families.online_alloc.dmd import REFERENCES, DMDParams
from optkit.families.online_alloc.dual_bound import solve_dual_bound
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.simulate import simulate

GRID = {
    "euclidean": (1.0, 1.5, 2.0, 3.0, 4.0),
    "scaled_euclidean": (0.3, 0.5, 0.8, 1.2),
    "entropy": (1.0, 2.0, 3.0, 5.0, 7.0, 10.0),
}


def seed_range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1000-1009")
    ap.add_argument("--T", type=int, default=10_000)
    ap.add_argument("--preset", default="nrm")
    args = ap.parse_args(argv)
    instances = [generate(args.preset, s, T=args.T) for s in seed_range(args.seeds)]
    opt = np.array([solve_dual_bound(inst).dual for inst in instances])
    print(f"preset {args.preset}, T = {args.T}, seeds {args.seeds} (training seeds)\n")
    print("| reference | c | mean ratio | min ratio |")
    print("| --- | --- | --- | --- |")
    best = {}
    for ref in REFERENCES:
        for c in GRID[ref]:
            ratio = simulate(instances, "dmd", DMDParams(reference=ref, c=c)).rewards / opt
            print(f"| {ref} | {c:g} | {ratio.mean():.4f} | {ratio.min():.4f} |")
            if ratio.mean() > best.get(ref, (0.0, 0.0))[1]:
                best[ref] = (c, float(ratio.mean()))
    print()
    for ref, (c, r) in best.items():
        print(f"best c for {ref}: {c:g} (mean ratio {r:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
