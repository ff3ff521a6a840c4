"""Seeded knapsack generators with the frozen presets of spec/knapsack.md.

Draw order is part of a preset's definition (weights, offered skills, q, description noise,
prices, conflicts): changing it changes every instance, so a change is a new preset name.

  q_is      mixture: 30% Beta(1, 6) (a tool that mostly fails), 70% Beta(4, 2)
  d_is      description score = q_is + N(0, σ) clipped to [0, 1]
  c_i       log-uniform on [1, 100], rank correlation ≈ ρ with the component's mean q: a Gaussian
            copula, log c = U(Φ(ρ z_q + √(1-ρ²) ε)) with z_q the normal score of the mean q
  B         a fraction of Σ_i c_i
  conflicts each unordered pair independently with probability p (drawn as a Binomial count of
            distinct pairs, so n = 5,000 needs no n² loop)
  w_s       Uniform(0.5, 2), normalised to Σ w = 1, so `weighted` values lie in [0, 1] (the
            expected share of the task that succeeds)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_choice, as_float, as_int
from optkit.core.seeding import make_rng
from optkit.families.knapsack.instance import OBJECTIVES, KnapsackInstance


@dataclass(frozen=True)
class Preset:
    n: int
    """components"""
    n_skills: int
    offers: tuple[int, int]
    """each component offers between these many skills (inclusive)"""
    description_noise: float
    """σ of the description score's Gaussian noise"""
    budget_fraction: float
    """B as a share of the total price"""
    conflict_rate: float
    """probability that a given pair of components conflicts"""
    tests_per_component: int = 5
    """sandbox trials an online composer may spend on one component (spec)"""
    price_range: tuple[float, float] = (1.0, 100.0)
    price_quality_correlation: float = 0.3


PRESETS: dict[str, Preset] = {
    "single_agent": Preset(40, 4, (1, 2), 0.25, 0.30, 0.02),
    "multi_agent": Preset(120, 10, (2, 4), 0.35, 0.20, 0.05),
    # The spec fixes n, S and the conflict rate of `large` (a solver-timing preset). The rest is
    # ours: a budget of 0.2% of the total price (~90 money, a handful of components) makes the
    # budget bind, so the MIP is a real knapsack rather than "best component per skill".
    "large": Preset(2000, 24, (1, 3), 0.30, 0.002, 0.02),
}
PRESET_NAMES = tuple(PRESETS)


OPTION_NAMES = ("n", "objective", "budget_fraction", "name")
MAX_COMPONENTS = 20_000
"""The conflict pairs grow as n²: at 20,000 components the multi_agent rate (5%) draws 10^7 of
them (a few hundred MB), 4x the n = 5,000 timing run. More is refused up front with the option
named, rather than failing with a MemoryError deep inside numpy."""


def _quality(rng: np.random.Generator, size: int) -> np.ndarray:
    bad = rng.random(size) < 0.3
    return np.where(bad, rng.beta(1.0, 6.0, size), rng.beta(4.0, 2.0, size))


def _conflict_pairs(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    total = n * (n - 1) // 2
    m = int(rng.binomial(total, rate)) if total else 0
    if m == 0:
        return np.zeros((0, 2), dtype=np.int64)
    flat = np.sort(rng.choice(total, size=m, replace=False))
    # Decode the index of pair (i, k), i < k, in row-major order of the upper triangle.
    i = (n - 2 - np.floor(np.sqrt(-8.0 * flat + 4.0 * n * (n - 1) - 7) / 2.0 - 0.5)).astype(
        np.int64
    )
    k = flat + i + 1 - n * (n - 1) // 2 + (n - i) * ((n - i) - 1) // 2
    return np.stack([i, k.astype(np.int64)], axis=1)


def _draw(rng: np.random.Generator, p: Preset, n: int, objective: str, budget_fraction: float):
    S = p.n_skills
    w = rng.uniform(0.5, 2.0, S)
    weights = w / w.sum()
    lo, hi = p.offers
    k_offers = rng.integers(lo, min(hi, S) + 1, size=n)
    offers = np.zeros((n, S), dtype=bool)
    for i in range(n):
        offers[i, rng.choice(S, size=k_offers[i], replace=False)] = True
    quality = np.zeros((n, S))
    quality[offers] = _quality(rng, int(offers.sum()))
    noise = rng.normal(0.0, p.description_noise, (n, S))
    description = np.where(offers, np.clip(quality + noise, 0.0, 1.0), 0.0)
    mean_q = quality.sum(axis=1) / offers.sum(axis=1)
    z_q = ndtri((np.argsort(np.argsort(mean_q)) + 0.5) / n)
    rho = p.price_quality_correlation
    u = ndtr(rho * z_q + math.sqrt(1.0 - rho**2) * rng.standard_normal(n))
    c_lo, c_hi = p.price_range
    prices = np.exp(math.log(c_lo) + u * (math.log(c_hi) - math.log(c_lo)))
    conflicts = _conflict_pairs(rng, n, p.conflict_rate)
    width = len(str(n - 1))
    return KnapsackInstance(
        skill_names=tuple(f"skill{s:02d}" for s in range(S)),
        weights=weights,
        component_names=tuple(f"c{i:0{width}d}" for i in range(n)),
        prices=prices,
        quality=quality,
        offers=offers,
        description=description,
        budget=budget_fraction * float(prices.sum()),
        conflicts=conflicts,
        objective=objective,
    )


def generate(
    preset: str = "single_agent",
    seed: int = 0,
    *,
    n: int | None = None,
    objective: str = "weighted",
    budget_fraction: float | None = None,
    name: str | None = None,
    **unknown: object,
) -> KnapsackInstance:
    """One instance of a preset.

    `n` overrides the number of components (the n = 5,000 timing run), `budget_fraction` the
    budget's share of the total price (the Pareto budget sweep: the same seed gives the same
    inventory at every fraction), `objective` picks the `all_skills` variant. Any other option
    is refused naming it (`optkit generate knapsack --n-types 3` used to raise a TypeError).
    """
    if unknown:
        raise InvalidInputError(
            next(iter(unknown)), f"unknown option (valid: {', '.join(OPTION_NAMES)})"
        )
    if preset not in PRESETS:
        raise InvalidInputError("preset", f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    p = PRESETS[preset]
    n = p.n if n is None else as_int(n, "n", ge=1, le=MAX_COMPONENTS)
    objective = as_choice(objective, "objective", OBJECTIVES)
    fraction = (
        p.budget_fraction
        if budget_fraction is None
        else as_float(budget_fraction, "budget_fraction", gt=0)
    )
    inst = _draw(make_rng(seed), p, n, objective, fraction)
    return inst if name is None else dataclasses.replace(inst, name=name)
