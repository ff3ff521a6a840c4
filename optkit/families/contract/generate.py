"""Seeded contract generators with the frozen presets of spec/contract.md.

Draw order is part of a preset's definition (θ, c, ν, P, δ, valuation, effort_max, N): changing
it changes every instance, so a change is a new preset name, never an edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_bool, as_int
from optkit.core.seeding import make_rng
from optkit.families.contract.instance import ContractInstance, LogValuation, PowerValuation

THETA_LOW, THETA_HIGH, THETA_GAP = 0.5, 2.0, 0.05
RHO_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
MAX_TYPES = 29  # 29 types with gap 0.05 fill [0.5, 2]; more cannot keep the minimum gap


def _willingness(rng: np.random.Generator, n: int) -> np.ndarray:
    """n sorted U(0.5, 2) draws conditioned on a minimum gap of 0.05.

    Sorted uniforms on the shrunk interval plus k·gap are exactly uniform over the configurations
    that keep the gap (the spacing trick), so no rejection loop is needed.
    """
    span = THETA_HIGH - THETA_LOW - THETA_GAP * (n - 1)
    return THETA_LOW + np.sort(rng.uniform(0.0, span, n)) + THETA_GAP * np.arange(n)


def _draw(
    rng: np.random.Generator,
    n: int,
    periods: int,
    ir: str,
    kind: str,
    limited_liability: bool = False,
) -> ContractInstance:
    theta = _willingness(rng, n)
    c = rng.uniform(0.5, 2.0)
    nu = rng.dirichlet(np.ones(n))
    # P = ½·Dirichlet(1) rows + ½·I: persistent types, not necessarily ordered (spec).
    P = 0.5 * rng.dirichlet(np.ones(n), size=n) + 0.5 * np.eye(n)
    delta = rng.uniform(0.7, 1.0)
    omega = rng.uniform(5.0, 20.0)
    if kind == "log":
        valuation = LogValuation(omega=omega, kappa=rng.uniform(0.5, 2.0))
    else:
        valuation = PowerValuation(omega=omega, rho=float(rng.choice(RHO_GRID)))
    effort_max = rng.uniform(5.0, 20.0)
    n_servers = int(rng.integers(1, 20))
    # ν ~ Dirichlet(1) can put mass ~1e-300 on a type; keep every ν_i > 0 after rounding.
    nu = np.maximum(nu, 1e-12)
    return ContractInstance(
        n_servers=n_servers,
        willingness=theta,
        unit_cost=c,
        prior=nu / nu.sum(),
        transition=P if periods == 2 else None,
        discount=delta if periods == 2 else 1.0,
        periods=periods,
        valuation=valuation,
        ir=ir,
        limited_liability=limited_liability,
        effort_max=effort_max,
    )


def _n(rng: np.random.Generator, low: int, high: int, n_types: int | None) -> int:
    """Preset's type count; an explicit n_types override still consumes the draw (stable stream)."""
    drawn = int(rng.integers(low, high + 1)) if low != high else low
    return drawn if n_types is None else n_types


PRESETS: dict[str, Callable[..., ContractInstance]] = {
    "default": lambda rng, k, ll: _draw(rng, _n(rng, 3, 3, k), 2, "per_period", "log", ll),
    "static": lambda rng, k, ll: _draw(rng, _n(rng, 2, 8, k), 1, "per_period", "log", ll),
    "interim": lambda rng, k, ll: _draw(rng, _n(rng, 3, 3, k), 2, "interim", "log", ll),
    "power": lambda rng, k, ll: _draw(rng, _n(rng, 3, 3, k), 2, "per_period", "power", ll),
    "large": lambda rng, k, ll: _draw(rng, _n(rng, 8, 20, k), 2, "per_period", "log", ll),
}
PRESET_NAMES = tuple(PRESETS)


def generate(
    preset: str = "default",
    seed: int = 0,
    *,
    n_types: int | None = None,
    limited_liability: bool = False,
    name: str | None = None,
    **unknown: object,
) -> ContractInstance:
    """One instance of a preset. `n_types` overrides the preset's I (used by the suites).
    Any other option is refused naming it (it used to raise a TypeError)."""
    if unknown:
        raise InvalidInputError(
            next(iter(unknown)),
            "unknown option (valid: n_types, limited_liability, name)",
        )
    if preset not in PRESETS:
        raise InvalidInputError("preset", f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    if n_types is not None:
        n_types = as_int(n_types, "n_types", ge=1, le=MAX_TYPES)
    ll = as_bool(limited_liability, "limited_liability")
    inst = PRESETS[preset](make_rng(seed), n_types, ll)
    return inst if name is None else dataclasses.replace(inst, name=name)  # re-validates
