"""Hindsight oracles: known optima, LP = dual_bound to 1e-6, MIP <= LP, and the LP export."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from oa_testkit import three_requests, two_resources

import optkit
from optkit.core import api
from optkit.core.status import Status
from optkit.families.online_alloc.dual_bound import dual_pass
from optkit.families.online_alloc.generate import generate


def test_three_requests_known_optima():
    inst = three_requests()
    lp = optkit.solve(inst, "hindsight_lp")
    mip = optkit.solve(inst, "hindsight_mip")
    db = optkit.solve(inst, "dual_bound")
    assert lp.status is Status.OPTIMAL and lp.objective == pytest.approx(4.0, abs=1e-9)
    assert mip.objective == pytest.approx(3.0, abs=1e-9)
    assert db.objective == pytest.approx(4.0, abs=1e-9) and db.bound == pytest.approx(4.0)
    assert db.certificate["duals"] == pytest.approx([2.0], abs=1e-9)
    # D(μ) is an upper bound at any μ >= 0, tight at μ* = 2
    for mu, value in ((0.0, 6.0), (1.0, 4.5), (2.0, 4.0), (3.0, 4.5)):
        assert dual_pass(np.array([mu]), inst.rewards, inst.consumption, inst.budgets).value == (
            pytest.approx(value)
        )


def test_two_resources_integral_optimum():
    inst = two_resources()
    for solver in ("hindsight_lp", "hindsight_mip", "dual_bound"):
        res = optkit.solve(inst, solver)
        assert res.objective == pytest.approx(9.0, abs=1e-9), solver
        assert res.evaluation.feasible and not res.evaluation.objective_mismatch


@pytest.mark.parametrize(
    ("preset", "seed", "options"),
    [
        ("small", 0, {}),
        ("small", 1, {"T": 500}),
        ("small", 2, {"input_model": "markov", "T": 400}),
        ("small", 3, {"input_model": "adversarial", "m": 8, "d": 4, "T": 300}),
        ("nrm", 4, {"T": 300, "m": 20}),
        ("bidding-small", 5, {}),
        # longer than dual_bound.SMALL_T: the L-BFGS start and the restricted master
        ("small", 6, {"T": 2500}),
        ("nrm", 7, {"T": 2500, "m": 20, "d": 4}),
        ("bidding", 8, {"T": 5000}),
    ],
)
def test_dual_bound_equals_highs_lp(preset, seed, options):
    inst = generate(preset, seed, **options)
    lp = optkit.solve(inst, "hindsight_lp")
    db = optkit.solve(inst, "dual_bound")
    assert lp.status is Status.OPTIMAL and db.status is Status.OPTIMAL
    scale = max(abs(lp.objective), 1.0)
    assert abs(db.objective - lp.objective) <= 1e-6 * scale
    assert abs(db.bound - lp.objective) <= 1e-6 * scale
    assert db.gap <= 1e-6
    assert db.evaluation.max_violation <= 1e-7 and not db.evaluation.objective_mismatch
    assert lp.evaluation.max_violation <= 1e-7 and not lp.evaluation.objective_mismatch
    # a basic solution has at most m fractional requests
    assert db.certificate["fractional_requests"] <= inst.m


@pytest.mark.parametrize("seed", [0, 1])
def test_mip_between_online_policies_and_lp(seed):
    inst = generate("small", seed, T=60)
    lp = optkit.solve(inst, "hindsight_lp").objective
    mip = optkit.solve(inst, "hindsight_mip")
    assert mip.status is Status.OPTIMAL and mip.objective <= lp + 1e-9
    assert lp - mip.objective <= inst.m * inst.rewards.max() + 1e-9  # ≤ m fractional requests
    for policy in ("dmd", "greedy", "resolve"):
        assert optkit.solve(inst, policy).objective <= mip.objective + 1e-9


def test_mip_refuses_large_streams():
    inst = generate("nrm", 0, T=30_000, m=2)
    assert optkit.solve(inst, "hindsight_mip").status is Status.NOT_APPLICABLE


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export_reads_back_with_the_same_optimum(tmp_path, fmt):
    inst = generate("small", 7, T=50)
    path = api.export(inst, tmp_path / f"m.{fmt}", fmt)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(
        optkit.solve(inst, "hindsight_lp").objective, rel=1e-9
    )


def test_dual_bound_recursive_start_matches_the_lp():
    """coarse = 1000 < T: the start prices come from dual_bound on a uniform tenth (recursion
    down to the L-BFGS start), the path T = 10^6 takes with the default coarse = 20 000."""
    inst = generate("nrm", 12, T=6000, m=10, d=4)
    lp = optkit.solve(inst, "hindsight_lp").objective
    db = optkit.solve(inst, "dual_bound", params={"coarse": 1000, "free_target": 50})
    assert db.status is Status.OPTIMAL
    assert abs(db.objective - lp) <= 1e-6 * lp and abs(db.bound - lp) <= 1e-6 * lp
    assert db.evaluation.max_violation <= 1e-7
