"""Helpers shared by the knapsack tests: the example instance and small random instances."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from optkit.families.knapsack.instance import KnapsackInstance

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_PATH = ROOT / "instances" / "knapsack" / "example.json"
EXAMPLE = json.loads(EXAMPLE_PATH.read_text())


def random_instance(
    seed: int,
    n: int,
    S: int,
    *,
    objective: str = "weighted",
    conflict_rate: float = 0.1,
    require_rate: float = 0.05,
    budget_share: float = 0.4,
    integer_prices: bool = False,
    additive: bool = False,
) -> KnapsackInstance:
    """A small instance with every feature (conflicts, requirements, q = 0 offers).

    `additive`: each skill offered by at most one component, no conflicts or requirements
    (the domain of the dp solver)."""
    rng = np.random.default_rng(seed)
    if additive:
        owner = rng.integers(0, n, S)
        offers = np.zeros((n, S), dtype=bool)
        offers[owner, np.arange(S)] = True
        conflict_rate = require_rate = 0.0
    else:
        offers = rng.random((n, S)) < 0.5
    quality = np.where(offers, np.round(rng.random((n, S)), 2), 0.0)
    quality[offers & (rng.random((n, S)) < 0.1)] = 0.0  # an offered skill it always fails
    prices = rng.integers(1, 20, n).astype(float) if integer_prices else rng.uniform(1, 20, n)
    pairs = [(i, k) for i in range(n) for k in range(i + 1, n)]
    conflicts = [p for p in pairs if rng.random() < conflict_rate]
    requires = [
        (i, k) for i in range(n) for k in range(n) if i != k and rng.random() < require_rate
    ]
    budget = max(1.0, round(budget_share * prices.sum()))
    return KnapsackInstance(
        skill_names=tuple(f"s{s}" for s in range(S)),
        weights=rng.uniform(0.5, 2.0, S),
        component_names=tuple(f"c{i}" for i in range(n)),
        prices=prices,
        quality=quality,
        offers=offers,
        description=np.where(offers, rng.random((n, S)), 0.0),
        budget=budget,
        conflicts=np.array(conflicts, dtype=np.int64).reshape(-1, 2),
        requires=np.array(requires, dtype=np.int64).reshape(-1, 2),
        objective=objective,
    )
