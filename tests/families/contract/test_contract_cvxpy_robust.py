"""The `cvxpy` contract solver's Clarabel retry sequence (exact_cvxpy._ATTEMPTS).

Seeds 925 and 1228 of the `default` preset at n_types = 8 are the two instances of 2,000 on which
Clarabel's default settings stop with InsufficientProgress (docs/benchmarks.md); `fast` certifies
both, so its objective is the reference. The retries must certify them, leave no Clarabel setting
behind in the cached model, and stay inside the Deadline.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from contract_testkit import decision_arrays, gen

import optkit
from optkit.core.status import Status
from optkit.families.contract import exact_cvxpy
from optkit.families.contract.evaluate import evaluate


@pytest.mark.parametrize("seed", [925, 1228])
def test_clarabel_failures_are_certified_by_a_retry(seed):
    inst = gen("default", seed, n_types=8)
    res = optkit.solve(inst, solver="cvxpy")
    ref = optkit.solve(inst, solver="fast")
    assert ref.status is Status.OPTIMAL
    assert res.status is Status.OPTIMAL, (res.flags, res.message)
    assert abs(res.objective - ref.objective) <= 1e-6 * abs(ref.objective)
    assert evaluate(inst, res.decision).max_violation <= 1e-7
    assert res.gap <= 1e-6 and res.bound >= ref.objective * (1 - 1e-9)
    # The retry is counted: the first attempt (Clarabel's defaults) failed on these instances.
    attempts = res.certificate["clarabel_attempts"]
    assert "clarabel_retry" in res.flags
    assert attempts[0] == {"settings": "default", "status": "error", "convex_status": None}
    assert attempts[-1]["status"] == "optimal" and len(attempts) >= 2


def test_retry_leaves_no_setting_behind():
    """A retry on the cached model must not change the next instance's answer (cvxpy re-solves
    one Clarabel object per shape and keeps any setting not passed again)."""
    other = gen("default", 0, n_types=8)
    before = optkit.solve(other, solver="cvxpy")
    assert before.status is Status.OPTIMAL and "clarabel_retry" not in before.flags
    optkit.solve(gen("default", 925, n_types=8), solver="cvxpy")
    after = optkit.solve(other, solver="cvxpy")
    assert (after.objective, after.bound, after.flags) == (before.objective, before.bound, ())
    for x, y in zip(decision_arrays(after.decision), decision_arrays(before.decision), strict=True):
        np.testing.assert_array_equal(x, y)


def test_time_limit_does_not_leak_into_the_next_solve():
    """A time-limited solve hands Clarabel a time limit; the next solve without one must not keep
    it (before the fix, every later solve of the shape stopped at the old limit)."""
    inst = gen("default", 0, n_types=8)
    limited = optkit.solve(inst, solver="cvxpy", time_limit_s=0.002)
    assert limited.status is Status.TIME_LIMIT
    free = optkit.solve(inst, solver="cvxpy")
    assert free.status is Status.OPTIMAL


def test_deadline_stops_the_retries():
    """With too little time left no further retry starts and the status says so."""
    res = optkit.solve(gen("default", 925, n_types=8), solver="cvxpy", time_limit_s=0.003)
    assert res.status is Status.TIME_LIMIT
    assert "clarabel_retry" not in res.flags


def test_best_menu_is_paired_with_the_lowest_bound():
    """When no attempt certifies itself, the best feasible menu of one attempt may be certified
    by another attempt's (valid) dual bound; it is then OPTIMAL, flagged, and the reported bound
    is the lower one."""
    inst = gen("default", 237, n_types=8)
    key = exact_cvxpy.ModelKey.of(inst)
    values = exact_cvxpy.parameter_values(inst)
    model = exact_cvxpy.cached_model(key, values)
    model.set(values)
    first = exact_cvxpy._attempt(inst, model, values, "default", {}, None)
    second = exact_cvxpy._attempt(
        inst, model, values, "max_step_0.95", {"max_step_fraction": 0.95}, None
    )
    # Measured: Clarabel's defaults give a menu 1.7e-6 below the optimum (gap_not_certified),
    # the shorter step a certified one.
    assert first.status is Status.FEASIBLE and "gap_not_certified" in first.flags
    assert second.status is Status.OPTIMAL
    # A second attempt whose own bound is loose but whose menu is the good one.
    loose = dataclasses.replace(
        second,
        status=Status.FEASIBLE,
        bound=second.bound * (1 + 1e-4),
        flags=("gap_not_certified",),
    )
    out = exact_cvxpy._result([first, loose], False, 0.0, {})
    assert out.status is Status.OPTIMAL
    assert out.objective == second.objective and out.bound == first.bound
    assert "bound_of_other_attempt" in out.flags and "gap_not_certified" not in out.flags
    assert out.certificate["dual_bound"] == first.bound
    # Neither pairing certifies when both bounds are loose: the better menu, FEASIBLE.
    looser = dataclasses.replace(first, bound=loose.bound * (1 + 1e-4))
    out = exact_cvxpy._result([looser, loose], False, 0.0, {})
    assert out.status is Status.FEASIBLE and out.objective == second.objective
    assert out.bound == loose.bound
