"""Baselines: first_best bounds the optimum from above, static_repeat and uniform are feasible
menus below it (spec/contract.md), on every suite instance and on drawn instances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from contract_testkit import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import optkit
from optkit.core.jsonio import read_json
from optkit.core.result import SolveResult
from optkit.core.status import Guarantee, Status
from optkit.families.contract.instance import ContractInstance, LogValuation

SUITE = Path(__file__).resolve().parents[3] / "instances" / "contract" / "suite-v1"
SUITE_FILES = sorted(p for p in SUITE.glob("*.json") if not p.name.endswith(".solution.json"))
REL = 1e-6  # the certified optimum is within this of the true one


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_first_best_above_optimum_above_heuristics(path):
    inst = optkit.load(path)
    opt = SolveResult.from_dict(read_json(path.with_name(path.stem + ".solution.json"))).objective
    tol = REL * max(1.0, abs(opt))
    fb = optkit.solve(inst, "first_best")
    assert fb.evaluation.objective >= opt - tol
    for name in ("static_repeat", "uniform"):
        res = optkit.solve(inst, name)
        assert res.evaluation.feasible and res.evaluation.max_violation <= 1e-9, name
        assert res.evaluation.objective <= opt + tol, name


def test_suite_is_all_there():
    assert len(SUITE_FILES) == 70


@settings(max_examples=40, deadline=None)
@given(
    preset=st.sampled_from(["default", "static", "interim", "power"]),
    seed=st.integers(0, 10**6),
    n=st.integers(1, 5),
    ll=st.booleans(),
)
def test_heuristic_menus_are_feasible(preset, seed, n, ll):
    inst = optkit.generate("contract", preset, seed, n_types=n, limited_liability=ll)
    for name in ("static_repeat", "uniform"):
        res = optkit.solve(inst, name)
        assert res.status is Status.FEASIBLE and res.bound is None
        assert res.evaluation.max_violation <= 1e-9, (name, res.evaluation)


def test_static_repeat_is_optimal_for_one_period():
    """With one period the repeated static menu is the static optimum itself."""
    inst = gen("static", 3, n_types=5)
    assert optkit.solve(inst, "static_repeat").objective == pytest.approx(
        optkit.solve(inst, "closed_form").objective, rel=1e-12
    )


def single_type(periods: int) -> ContractInstance:
    return ContractInstance(
        n_servers=4,
        willingness=np.array([1.0]),
        unit_cost=2.0,
        prior=np.array([1.0]),
        transition=np.array([[1.0]]) if periods == 2 else None,
        discount=0.5 if periods == 2 else 1.0,
        periods=periods,
        valuation=LogValuation(omega=10.0, kappa=1.0),
        effort_max=20.0,
    )


@pytest.mark.parametrize("periods", [1, 2])
def test_first_best_hand_worked(periods):
    """One type, φ = 2: G'(e) = 10/(1+e) = 2 gives e = 4, R = 8, profit 10 ln 5 - 8 per period,
    times N = 4 and (1 + δ) = 1.5 over two periods. With one type nothing is hidden, so first
    best is also the optimum."""
    res = optkit.solve(single_type(periods), "first_best")
    assert res.status is Status.OPTIMAL and res.solver.guarantee is Guarantee.BOUND
    assert "relaxation_not_incentive_compatible" in res.flags
    per_period = 10 * np.log(5.0) - 8.0
    assert res.objective == pytest.approx(4 * per_period * (1.5 if periods == 2 else 1.0))
    assert res.bound == res.objective
    assert res.objective == pytest.approx(optkit.solve(single_type(periods), "cvxpy").objective)


def test_uniform_hand_worked():
    """Two types φ = [2, 1]: the pooled item must satisfy type 1, so e = 4 (G' = φ_1) and R = 8
    for both types; the profit is the single-type one."""
    inst = ContractInstance(
        n_servers=1,
        willingness=np.array([1.0, 2.0]),
        unit_cost=2.0,
        prior=np.array([0.3, 0.7]),
        periods=1,
        valuation=LogValuation(omega=10.0, kappa=1.0),
        effort_max=20.0,
    )
    res = optkit.solve(inst, "uniform")
    np.testing.assert_allclose(res.decision.effort1, [4.0, 4.0])
    np.testing.assert_allclose(res.decision.reward1, [8.0, 8.0])
    assert res.objective == pytest.approx(10 * np.log(5.0) - 8.0)


def test_first_best_is_not_incentive_compatible_with_two_types():
    res = optkit.solve(gen("default", 1), "first_best")
    assert not res.evaluation.feasible and res.evaluation.max_violation > 1e-3
