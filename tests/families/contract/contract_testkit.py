"""Helpers shared by the contract tests: a known instance, variants, strictly feasible menus.

A plain module with a family-specific name (imported as `contract_testkit`) rather than
`from conftest import ...`: tests/ holds several conftest.py files and only one of them can be
the module named `conftest` at a time.

The menus built here are strictly feasible by construction (spec/contract.md, "Constraints"),
so a test can break exactly one constraint by a known amount and check that evaluate() reports
exactly that. Why the construction is feasible:

* Static screening menu for costs φ_0 > ... > φ_{I-1} and efforts e_0 < ... < e_{I-1}: the
  downward IC of type k+1 (not taking item k) needs R_{k+1} - R_k >= φ_{k+1} Δe_k and the upward
  IC of type k (not taking item k+1) needs R_{k+1} - R_k <= φ_k Δe_k. Taking the midpoint of that
  interval makes every adjacent IC strict; with efforts increasing, single crossing (costs linear
  in e with type-ordered slopes) makes every non-adjacent IC strict too. Utilities then rise with
  the type, U_{k+1} - U_k = (φ_k - φ_{k+1})(e_k + e_{k+1}) / 2 > 0, so R_0 = φ_0 e_0 + m leaves
  every IR slack by at least m.
* Dynamic menu: the same kind of static menu in period 1 and the same period-2 menu at every
  history i. Then U2[i, :] does not depend on i, so the continuation of a truthful type and of a
  liar are equal (δ Σ_j P_ij U2_kj = δ Σ_j P_ij U2_ij) and IC1 reduces to the static IC1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

import optkit
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation

# Hand-written (not generated) so that each bad-input test mutates one known field and nothing
# else moves with a generator's draw order. I = 3, two periods, log valuation, N = 10. One file,
# tests/data/contract-example.json, shared with the CLI tests (tests/conftest.py).
EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "contract-example.json").read_text()
)

PRESETS = ("default", "static", "interim", "power", "large")
SMALL_PRESETS = ("default", "static", "interim", "power")


def variant(inst: ContractInstance, **changes: Any) -> ContractInstance:
    """The same data with some JSON fields replaced (e.g. ir='interim'), validated again."""
    d = inst.to_dict()
    d.update(changes)
    return ContractInstance.from_dict(d)


def gen(preset: str, seed: int, n_types: int | None = None, **changes: Any) -> ContractInstance:
    inst = optkit.generate("contract", preset=preset, seed=seed, n_types=n_types)
    return variant(inst, **changes) if changes else inst


def static_rewards(phi: np.ndarray, e: np.ndarray, margin: float) -> np.ndarray:
    """Rewards making (e, R) strictly IC with every IR slack by >= margin (module docstring).

    e must be strictly increasing; adjacent reward steps sit at the midpoint of the IC interval.
    """
    steps = 0.5 * (phi[:-1] + phi[1:]) * np.diff(e)
    return phi[0] * e[0] + margin + np.concatenate([[0.0], np.cumsum(steps)])


def increasing_efforts(rng: np.random.Generator, n: int, effort_max: float) -> np.ndarray:
    """n strictly increasing efforts inside [0.05, 0.95]·effort_max, spaced >= 0.02·effort_max."""
    gaps = rng.uniform(0.02, 0.9 / n, size=n)
    return effort_max * (0.05 + np.cumsum(gaps) - gaps[0])


def feasible_menu(
    inst: ContractInstance, rng: np.random.Generator, margin1: float, margin2: float
) -> ContractDecision:
    """A strictly feasible menu (module docstring); dynamic menus repeat one period-2 row."""
    n, phi = inst.n_types, inst.phi
    e1 = increasing_efforts(rng, n, inst.effort_max)
    r1 = static_rewards(phi, e1, margin1)
    if not inst.dynamic:
        return ContractDecision(effort1=e1, reward1=r1)
    f = increasing_efforts(rng, n, inst.effort_max)
    g = static_rewards(phi, f, margin2)
    return ContractDecision(
        effort1=e1, reward1=r1, effort2=np.tile(f, (n, 1)), reward2=np.tile(g, (n, 1))
    )


def replace(dec: ContractDecision, **arrays: np.ndarray) -> ContractDecision:
    fields = dict(
        effort1=dec.effort1, reward1=dec.reward1, effort2=dec.effort2, reward2=dec.reward2
    )
    fields.update(arrays)
    return ContractDecision(**fields)


def decision_arrays(dec: ContractDecision) -> list[np.ndarray]:
    return [a for a in (dec.effort1, dec.reward1, dec.effort2, dec.reward2) if a is not None]


@st.composite
def small_instances(draw, presets=SMALL_PRESETS, max_types: int = 4) -> ContractInstance:
    """A generated instance of a small preset, optionally with limited liability or interim IR."""
    preset = draw(st.sampled_from(presets))
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, max_types))
    changes: dict[str, Any] = {}
    if draw(st.booleans()):
        changes["limited_liability"] = True
    if preset != "static" and draw(st.booleans()):
        changes["ir"] = draw(st.sampled_from(["per_period", "interim"]))
    return gen(preset, seed, n, **changes)


def first_best_effort(inst: ContractInstance, phi: float) -> float:
    """argmax over [0, effort_max] of G(e) - φ e, closed form: G'(e) = φ, clamped."""
    v = inst.valuation
    if isinstance(v, LogValuation):
        e = v.omega / phi - 1.0 / v.kappa
    else:
        e = (v.omega * v.rho / phi) ** (1.0 / (1.0 - v.rho))
    return float(np.clip(e, 0.0, inst.effort_max))


def first_best_value(inst: ContractInstance) -> float:
    """Complete information: each type pays exactly its cost, so per type the cloud gets
    max_e G(e) - φ e; weighted by ν (period 1) and δ ν_i P_ij (period 2), times N."""
    efforts = np.array([first_best_effort(inst, p) for p in inst.phi])
    fb = inst.valuation.value(efforts) - inst.phi * efforts
    per_es = inst.prior @ fb
    if inst.dynamic:
        per_es += inst.discount * inst.prior @ inst.transition @ fb
    return inst.n_servers * per_es


def multipliers_vector(system, named: dict[str, float]) -> np.ndarray:
    """A certificate's {row name: λ} (only |λ| > 1e-9 is reported) as a vector over the rows."""
    rows = {system.row_name(k): k for k in range(system.n_rows)}
    lam = np.zeros(system.n_rows)
    for name, value in named.items():
        lam[rows[name]] = value
    return lam
