"""The matching variant: entropic allocations, its CVXPY oracle and the smooth dual."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

import optkit
from optkit.core.status import Status
from optkit.families.online_alloc import storage
from optkit.families.online_alloc.exact_cvxpy import smooth_dual
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.instance import OnlineAllocInstance
from optkit.families.online_alloc.simulate import simulate


def one_request() -> OnlineAllocInstance:
    """T = 1, rewards (1, 2), λ = 1, no resource use: max_x x·r + H(x0, x) over the simplex is
    the log-sum-exp log(1 + e + e²) at the softmax x = (e, e²) / (1 + e + e²)."""
    return OnlineAllocInstance(
        rho=np.array([1.0]),
        rewards=np.array([[1.0, 2.0]]),
        consumption=np.zeros((1, 1, 2)),
        variant="matching",
        entropy=1.0,
    )


def test_one_request_softmax_optimum():
    inst = one_request()
    best = math.log(1 + math.e + math.e**2)
    exact = optkit.solve(inst, "hindsight_cvxpy")
    assert exact.status is Status.OPTIMAL
    assert exact.objective == pytest.approx(best, abs=1e-6)
    assert exact.bound == pytest.approx(best, abs=1e-7)  # μ ≈ 0: the budget never binds
    greedy = optkit.solve(inst, "greedy")  # μ = 0 plays the softmax itself
    assert greedy.objective == pytest.approx(best, abs=1e-12)
    z = 1 + math.e + math.e**2
    assert greedy.decision.frac_x.tolist() == pytest.approx([math.e / z, math.e**2 / z])


@pytest.mark.parametrize("seed", [0, 1])
def test_cvxpy_matches_the_minimised_smooth_dual(seed):
    inst = generate("matching-small", seed, T=60)
    exact = optkit.solve(inst, "hindsight_cvxpy")
    res = minimize(
        lambda mu: smooth_dual(mu, inst), np.zeros(inst.m), method="L-BFGS-B",
        bounds=[(0, None)] * inst.m, options={"ftol": 1e-14, "gtol": 1e-10},
    )  # fmt: skip
    assert exact.status is Status.OPTIMAL and exact.gap <= 1e-6
    assert exact.objective == pytest.approx(res.fun, rel=1e-6)
    assert exact.evaluation.max_violation <= 1e-7 and not exact.evaluation.objective_mismatch


def test_policies_on_matching():
    inst = generate("matching-small", 3)
    bound = optkit.solve(inst, "hindsight_cvxpy").bound
    for policy in ("dmd", "greedy"):
        res = optkit.solve(inst, policy)
        assert res.status is Status.FEASIBLE and res.evaluation.max_violation == 0.0
        assert not res.evaluation.objective_mismatch and res.objective <= bound
    for solver in ("fixed_dual", "resolve", "dual_bound", "hindsight_lp", "hindsight_mip"):
        assert optkit.solve(inst, solver).status is Status.NOT_APPLICABLE, solver
    assert optkit.solve(generate("small", 0), "hindsight_cvxpy").status is Status.NOT_APPLICABLE
    with pytest.raises(optkit.InvalidInputError):
        simulate([inst])


def test_matching_files_round_trip(tmp_path):
    inst = generate("matching-small", 2, entropy=0.25)
    back = optkit.load(storage.save(inst, tmp_path / "m.json"))
    assert back.variant == "matching" and back.entropy == 0.25
    assert np.array_equal(back.rewards, inst.rewards)
    data = inst.to_dict()
    data["entropy"] = 0.3
    path = tmp_path / "spec.json"
    path.write_text(__import__("json").dumps(data))
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(path)
    assert exc.value.field == "entropy"


def test_entropy_only_for_matching():
    with pytest.raises(optkit.InvalidInputError) as exc:
        OnlineAllocInstance(rho=[1.0], rewards=[[1.0]], consumption=[[[1.0]]], entropy=0.5)
    assert exc.value.field == "entropy"
    with pytest.raises(optkit.InvalidInputError) as exc:
        OnlineAllocInstance(rho=[1.0], rewards=[[1.0]], consumption=[[[1.0]]], variant="matching")
    assert exc.value.field == "entropy"


def test_dual_fallback_agrees_with_clarabel():
    """The fallback used when Clarabel fails: softmax at the smooth dual's minimiser."""
    from optkit.families.online_alloc.exact_cvxpy import _clean, _dual_fallback, entropic_value

    inst = generate("matching-small", 4, T=80)
    exact = optkit.solve(inst, "hindsight_cvxpy")
    mu, x = _dual_fallback(inst)
    x = _clean(x, inst.consumption.astype(float), inst.budgets)
    assert entropic_value(inst, x) == pytest.approx(exact.objective, rel=1e-6)
    assert smooth_dual(mu, inst) == pytest.approx(exact.bound, rel=1e-6)


def test_matching_has_no_lp_export(tmp_path):
    from optkit.core import api

    with pytest.raises(optkit.InvalidInputError) as exc:
        api.export(generate("matching-small", 0), tmp_path / "m.lp", "lp")
    assert exc.value.field == "variant" and not (tmp_path / "m.lp").exists()
